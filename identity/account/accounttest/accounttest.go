// Package accounttest builds an account.Service and the onboarding.Service
// over it for tests: real storage, fast password hashing, a settable clock and
// a recording mail sender (New), or the role model, a real SMTP server and an
// outbox worker (NewOnboarding).
package accounttest

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/onboarding"
	"github.com/frontdeskhq/frontdesk/identity/password"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/invites"
	"github.com/frontdeskhq/frontdesk/lockout"
	"github.com/frontdeskhq/frontdesk/templates"
)

// FastParams keep hashing cheap in tests (the race detector slows argon2
// greatly); production parameters are enforced by password.Params.Validate.
var FastParams = password.Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1}

// Clock is a settable time source, safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock showing t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now reports the clock's time.
func (c *Clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// Outbox records messages instead of delivering them; set Err to make sending fail.
type Outbox struct {
	mu   sync.Mutex
	msgs []invites.Message
	Err  error
}

// Send records m, or fails with Err.
func (o *Outbox) Send(_ context.Context, m invites.Message) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.Err != nil {
		return o.Err
	}
	o.msgs = append(o.msgs, m)
	return nil
}

// Messages returns what was sent so far.
func (o *Outbox) Messages() []invites.Message {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]invites.Message(nil), o.msgs...)
}

// Env is a service with its collaborators exposed to the test.
type Env struct {
	Service *account.Service
	// Onboard is the onboarding service over Service (invitations,
	// temporary passwords, reset links); it voids a removed member's
	// invitations.
	Onboard  *onboarding.Service
	Store    *store.Store
	Clock    *Clock
	Mail     *Outbox
	Registry *prometheus.Registry
}

// Options adjust New.
type Options struct {
	Params    password.Params // zero means FastParams
	PublicURL string          // "" means https://id.example.org
	// Guard is the lockout guard; nil means lockout.Nop.
	Guard lockout.Guard
	// Lockout is the default lockout policy; zero means lockout.DefaultPolicy().
	Lockout lockout.Policy
	// WrapHasher, when set, wraps the hasher (to count or hold evaluations).
	WrapHasher func(account.PasswordHasher) account.PasswordHasher
	// Clock, when set, is the service's clock (shared by several services).
	Clock *Clock
	// IDPrefix starts every generated ID; "" means "id-". Services sharing
	// one store need distinct prefixes.
	IDPrefix string
	// Permissions is the role model; nil means the owner-only fallback.
	Permissions account.Permissions
	// Now, when set, is the service's clock instead of Clock (time.Now for
	// measurements in real time).
	Now func() time.Time
	// Wait, when set, replaces the real timer a login refused past the
	// lockout threshold waits on.
	Wait func(ctx context.Context, d time.Duration) error
}

// New returns a service over st.
func New(t testing.TB, st *store.Store, opts Options) *Env {
	t.Helper()
	if opts.Params == (password.Params{}) {
		opts.Params = FastParams
	}
	if opts.PublicURL == "" {
		opts.PublicURL = "https://id.example.org"
	}
	policy, err := password.NewPolicy(15, 1024, nil)
	if err != nil {
		t.Fatal(err)
	}
	mails, err := templates.ParseMails()
	if err != nil {
		t.Fatal(err)
	}
	var ids atomic.Int64
	clock := opts.Clock
	if clock == nil {
		clock = NewClock(time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC))
	}
	e := &Env{Store: st, Clock: clock, Mail: &Outbox{}, Registry: prometheus.NewRegistry()}
	var hasher account.PasswordHasher = password.NewHasher(opts.Params, 4)
	if opts.WrapHasher != nil {
		hasher = opts.WrapHasher(hasher)
	}
	idPrefix := opts.IDPrefix
	if idPrefix == "" {
		idPrefix = "id-"
	}
	now := e.Clock.Now
	if opts.Now != nil {
		now = opts.Now
	}
	e.Service, err = account.New(account.Deps{
		Store:       st,
		Hasher:      hasher,
		Guard:       opts.Guard,
		Permissions: opts.Permissions,
		Policy:      policy,
		Mail:        e.Mail,
		Mails:       mails,
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		Registry:    e.Registry,
		Now:         now,
		NewID:       func() string { return fmt.Sprintf("%s%04d", idPrefix, ids.Add(1)) },
		Random:      rand.Reader,
		Wait:        opts.Wait,
	}, account.Settings{PublicURL: opts.PublicURL, SetupTTL: 72 * time.Hour,
		IdleTimeout: 15 * time.Minute, AbsoluteLifetime: 12 * time.Hour, Lockout: opts.Lockout})
	if err != nil {
		t.Fatal(err)
	}
	e.Onboard, err = onboarding.New(onboarding.Deps{Accounts: e.Service, Store: st, Policy: policy,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Registry: e.Registry, Now: now,
		NewID: func() string { return fmt.Sprintf("%s%04d", idPrefix, ids.Add(1)) }, Random: rand.Reader}, onboarding.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	closeResets(t, e.Onboard)
	return e
}

// closeResets makes the test wait, when it ends, for the service's queued
// "forgot password" work (before the store closes).
func closeResets(t testing.TB, svc *onboarding.Service) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := svc.Close(ctx); err != nil {
			t.Errorf("onboarding service close: %v", err)
		}
	})
}
