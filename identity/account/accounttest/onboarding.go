package accounttest

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/onboarding"
	"github.com/frontdeskhq/frontdesk/identity/password"
	"github.com/frontdeskhq/frontdesk/identity/roles"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/invites"
	"github.com/frontdeskhq/frontdesk/invites/smtptest"
	"github.com/frontdeskhq/frontdesk/templates"
)

// LiveClock runs with real time (so the outbox worker's back-off elapses)
// and can be moved forward to expire links.
type LiveClock struct {
	mu     sync.Mutex
	offset time.Duration
}

// Now is the real time plus every Advance so far.
func (c *LiveClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().UTC().Add(c.offset)
}

// Advance moves the clock forward.
func (c *LiveClock) Advance(d time.Duration) { c.mu.Lock(); c.offset += d; c.mu.Unlock() }

// Onboarding is an account service and the onboarding service over it, wired
// for onboarding by email: the role model, a real SMTP server (smtptest) and
// an outbox worker delivering to it over SMTP with short back-offs.
type Onboarding struct {
	Service *account.Service
	// Onboard is the onboarding service (invitations, temporary
	// passwords, reset links).
	Onboard  *onboarding.Service
	Roles    *roles.Service
	Store    *store.Store
	Clock    *LiveClock
	SMTP     *smtptest.Server
	Worker   *invites.Worker
	Registry *prometheus.Registry
	cancel   context.CancelFunc
	done     chan struct{}
}

// OnboardingOptions adjust NewOnboarding.
type OnboardingOptions struct {
	PublicURL string // "" means https://id.example.org
	// SMTP is the server to deliver to; nil starts a new one.
	SMTP *smtptest.Server
	// WorkerID names the outbox worker ("" means "worker-1"); IDPrefix
	// prefixes generated IDs ("" means "ob-").
	WorkerID, IDPrefix string
	// Clock is shared by services on one store; nil makes a new one.
	Clock *LiveClock
	// MaxAttempts is the outbox retry limit (0 means 1000).
	MaxAttempts int
	// AppURLs maps app client IDs to landing URLs.
	AppURLs map[string]string
	// NoWorker leaves the worker stopped (start it with StartWorker).
	NoWorker bool
	// BeforeResetWork and ResetQueueSize are passed to the onboarding
	// service (onboarding.Deps.BeforeResetWork,
	// onboarding.Settings.ResetQueueSize).
	BeforeResetWork func()
	ResetQueueSize  int
	// WrapHasher, when set, wraps the hasher (to count evaluations).
	WrapHasher func(account.PasswordHasher) account.PasswordHasher
}

// outboxMaxBackoff is the outbox worker's longest back-off.
const outboxMaxBackoff = 200 * time.Millisecond

// NewOnboarding builds the service and starts its outbox worker, stopped when
// the test ends.
func NewOnboarding(t testing.TB, st *store.Store, opts OnboardingOptions) *Onboarding {
	t.Helper()
	if opts.PublicURL == "" {
		opts.PublicURL = "https://id.example.org"
	}
	if opts.SMTP == nil {
		opts.SMTP = smtptest.Start(t, smtptest.Options{Username: "frontdesk", Password: "smtp-secret", STARTTLS: true})
	}
	if opts.WorkerID == "" {
		opts.WorkerID = "worker-1"
	}
	if opts.IDPrefix == "" {
		opts.IDPrefix = "ob-"
	}
	if opts.Clock == nil {
		opts.Clock = &LiveClock{}
	}
	if opts.MaxAttempts == 0 {
		opts.MaxAttempts = 1000
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	policy, err := password.NewPolicy(15, 1024, nil)
	if err != nil {
		t.Fatal(err)
	}
	mails, err := templates.ParseMails()
	if err != nil {
		t.Fatal(err)
	}
	var ids atomic.Int64
	newID := func() string { return fmt.Sprintf("%s%05d", opts.IDPrefix, ids.Add(1)) }
	o := &Onboarding{Store: st, Clock: opts.Clock, SMTP: opts.SMTP, Registry: prometheus.NewRegistry()}
	o.Roles, err = roles.New(roles.Deps{Store: st, Logger: logger, Now: o.Clock.Now, NewID: newID})
	if err != nil {
		t.Fatal(err)
	}
	sender := invites.NewSMTPSender(invites.SMTPConfig{Host: opts.SMTP.Host(), Port: opts.SMTP.Port(), TLS: "starttls", RootCAs: opts.SMTP.RootCAs(),
		Username: "frontdesk", Password: "smtp-secret", From: "frontdesk <no-reply@example.org>"})
	o.Worker, err = invites.NewWorker(st, sender, invites.WorkerConfig{ID: opts.WorkerID, Poll: 20 * time.Millisecond,
		Lease: 20 * time.Second, BaseBackoff: 10 * time.Millisecond, MaxBackoff: outboxMaxBackoff,
		MaxAttempts: opts.MaxAttempts, Batch: 50}, logger, o.Registry, o.Clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	var hasher account.PasswordHasher = password.NewHasher(FastParams, 4)
	if opts.WrapHasher != nil {
		hasher = opts.WrapHasher(hasher)
	}
	o.Service, err = account.New(account.Deps{
		Store: st, Hasher: hasher, Policy: policy, Mail: &Outbox{}, Mails: mails,
		Logger: logger, Registry: o.Registry, Now: o.Clock.Now, NewID: newID, Random: rand.Reader,
		Permissions: o.Roles, Roles: o.Roles, OutboxNotify: o.Worker.Notify,
	}, account.Settings{PublicURL: opts.PublicURL, SetupTTL: 72 * time.Hour, IdleTimeout: 15 * time.Minute,
		AbsoluteLifetime: 12 * time.Hour, AppURLs: opts.AppURLs})
	if err != nil {
		t.Fatal(err)
	}
	o.Onboard, err = onboarding.New(onboarding.Deps{Accounts: o.Service, Store: st, Roles: o.Roles, Policy: policy,
		Logger: logger, Registry: o.Registry, Now: o.Clock.Now, NewID: newID, Random: rand.Reader,
		BeforeResetWork: opts.BeforeResetWork}, onboarding.Settings{ResetQueueSize: opts.ResetQueueSize})
	if err != nil {
		t.Fatal(err)
	}
	closeResets(t, o.Onboard)
	if !opts.NoWorker {
		o.StartWorker()
	}
	t.Cleanup(o.StopWorker)
	return o
}

// StartWorker runs the outbox worker in the background.
func (o *Onboarding) StartWorker() {
	if o.cancel != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	o.cancel, o.done = cancel, make(chan struct{})
	go func() { defer close(o.done); o.Worker.Run(ctx) }()
}

// StopWorker stops the outbox worker and waits for it.
func (o *Onboarding) StopWorker() {
	if o.cancel == nil {
		return
	}
	o.cancel()
	<-o.done
	o.cancel = nil
}

// RunPasses stops the background outbox worker (waiting for the pass in
// progress; StartWorker starts it again), then runs outbox passes on the
// caller's goroutine until done reports true. After a pass that claimed
// nothing it moves the clock past the longest back-off (and, in steps, past
// the lease of a claim the stopped worker left unsent), so every pending
// message comes due again without waiting for real time. It fails the test
// after 1,000 passes. A check that nothing was sent is made after it: once
// the outbox is empty, whatever was queued has been attempted.
func (o *Onboarding) RunPasses(t testing.TB, done func() bool) {
	t.Helper()
	o.StopWorker()
	for range 1000 {
		if done() {
			return
		}
		n, err := o.Worker.RunOnce(context.Background())
		if err != nil {
			t.Fatalf("outbox pass: %v", err)
		}
		if n == 0 {
			o.Clock.Advance(outboxMaxBackoff)
		}
	}
	t.Fatal("accounttest: 1,000 outbox passes did not get there")
}

// OutboxEmpty reports whether no message waits in the outbox.
func (o *Onboarding) OutboxEmpty(t testing.TB) func() bool {
	return func() bool {
		n, err := o.Store.CountOutboxPending(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return n == 0
	}
}

// StrongPassword is the password Practice's owner sets; it meets the test
// policy.
const StrongPassword = "violet kettle marsh quantum 84"

// Practice creates a practice on the sessions preset with an active owner
// (owner@<slug>.example.org, password StrongPassword) and an active
// administrator (admin@<slug>.example.org); it returns their member IDs.
func (o *Onboarding) Practice(t testing.TB, slug string) (ownerID, adminID string) {
	t.Helper()
	ctx := context.Background()
	created, err := o.Service.CreatePractice(ctx, account.NewPractice{Slug: slug, Name: "Sunrise & <Co>",
		OwnerEmail: "owner@" + slug + ".example.org", OwnerName: "Olive Owner"}, account.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	token := created.SetupURL[strings.Index(created.SetupURL, "token=")+len("token="):]
	if _, _, err := o.Service.CompleteSetup(ctx, slug, token, StrongPassword, StrongPassword, account.Meta{}); err != nil {
		t.Fatal(err)
	}
	admin := store.Member{ID: slug + "-admin", PracticeID: created.PracticeID, Email: "admin@" + slug + ".example.org",
		DisplayName: "Ada Admin", Status: store.StatusActive, Roles: []string{"administrator"}, CreatedAt: o.Clock.Now()}
	if err := o.Store.CreateMember(ctx, admin); err != nil {
		t.Fatal(err)
	}
	return created.OwnerID, admin.ID
}

// LinkIn returns the link in a message's text part: the line holding only a
// URL under https://id.example.org/p/.
func LinkIn(t testing.TB, m smtptest.Message) string {
	t.Helper()
	text, err := m.Part("text/plain")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(text) {
		line = strings.TrimRight(line, "\n")
		if strings.HasPrefix(line, "https://id.example.org/p/") && !strings.Contains(line, " ") {
			return line
		}
	}
	t.Fatalf("no link alone on a line in:\n%s", text)
	return ""
}

// TemporaryIn returns the temporary password in a message's text part.
func TemporaryIn(t testing.TB, m smtptest.Message) string {
	t.Helper()
	text, err := m.Part("text/plain")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(text) {
		if v, ok := strings.CutPrefix(strings.TrimRight(line, "\n"), "Temporary password: "); ok {
			return v
		}
	}
	t.Fatalf("no temporary password line in:\n%s", text)
	return ""
}
