// Package account is frontdesk's core domain service: it creates practices and
// their owners, issues and redeems setup links, logs members in (with
// passwords, temporary passwords, passkeys and single sign-on), keeps their
// browser sessions, changes passwords, removes members, applies the practice's
// login policy, and writes every security-relevant event to the audit trail.
// Invitations, issuing temporary passwords and reset links are
// identity/onboarding's, built on the small core exported in actor.go.
//
// It does not import net/http: handlers translate requests into calls here and
// errors from here into pages.
package account

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/mail"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/frontdeskhq/frontdesk/identity/password"
	"github.com/frontdeskhq/frontdesk/identity/problem"
	"github.com/frontdeskhq/frontdesk/identity/roles"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/invites"
	"github.com/frontdeskhq/frontdesk/lockout"
	"github.com/frontdeskhq/frontdesk/templates"
)

// Errors a caller turns into messages for people. None of them says whether an
// account exists.
var (
	// ErrInvalidCredentials: the email and password do not match an active
	// account (unknown email, wrong password, locked or deactivated account).
	ErrInvalidCredentials = errors.New("account: email or password is not right")
	// ErrPracticeNotFound: no practice has that slug.
	ErrPracticeNotFound = errors.New("account: no such practice")
	// ErrPracticeExists: the slug is taken.
	ErrPracticeExists = errors.New("account: a practice with that slug already exists")
	// ErrLinkInvalid: the link is unknown, used, expired, or for another practice.
	ErrLinkInvalid = errors.New("account: link is not valid")
	// ErrNoSession: the browser has no valid session for this practice.
	ErrNoSession = errors.New("account: not signed in")
	// ErrPasswordMismatch: the new password and its confirmation differ.
	ErrPasswordMismatch = errors.New("account: the two new passwords differ")
	// ErrWrongPassword: the current password given to change it is not right.
	ErrWrongPassword = errors.New("account: current password is not right")
	// ErrSamePassword: the new password equals the current one.
	ErrSamePassword = errors.New("account: new password equals the current one")
	// ErrUnavailable: a dependency failed and the request was refused rather
	// than risk an unchecked login.
	ErrUnavailable = problem.New(problem.Unavailable, "unavailable", "account: temporarily unavailable",
		"The service is temporarily unavailable; try again shortly.")
)

// InvalidInputError reports a bad field in an operator's or administrator's
// request; Field names it and Reason says what is wrong.
type InvalidInputError struct {
	Field  string
	Reason string
}

func (e *InvalidInputError) Error() string { return e.Field + ": " + e.Reason }

// Meta describes where a request came from, for the audit trail.
type Meta struct {
	ClientAddr string
	UserAgent  string
	RequestID  string
}

// Settings are the service's tunables.
type Settings struct {
	// PublicURL is the externally visible base URL; every link is built from it,
	// never from a request's Host header.
	PublicURL        string
	SetupTTL         time.Duration
	IdleTimeout      time.Duration
	AbsoluteLifetime time.Duration
	// Lockout is the default lockout policy; a practice's settings override
	// it. The zero value means lockout.DefaultPolicy().
	Lockout lockout.Policy
	// AppURLs maps a practice app's client ID to the URL an invitee lands on
	// after accepting an invitation to it (AppURL, IsLandingURL).
	AppURLs map[string]string
}

// Deps are the service's collaborators.
type Deps struct {
	Store    *store.Store
	Hasher   PasswordHasher // *password.Hasher in production
	Policy   *password.Policy
	Guard    lockout.Guard // nil means lockout.Nop
	Mail     invites.Sender
	Mails    *templates.Mails
	Logger   *slog.Logger
	Registry prometheus.Registerer // nil means metrics are not registered
	Now      func() time.Time
	NewID    func() string
	Random   io.Reader // crypto/rand.Reader in production
	// Permissions answers who holds a permission in a practice (the role
	// model, *roles.Service); nil means only active members holding the owner
	// role may unlock accounts.
	Permissions Permissions
	// Roles is the role model, which administrative actions (Require) and
	// removal consult; invitations are refused without it.
	Roles *roles.Service
	// OnDeactivate hooks run after a member is deactivated (for example to
	// revoke refresh tokens and send back-channel logout). A hook's error is
	// logged; the deactivation stands.
	OnDeactivate []func(ctx context.Context, practiceID, memberID string) error
	// OutboxNotify, when set, is called after mail was queued so the outbox
	// worker delivers it without waiting for its next poll.
	OutboxNotify func()
	// Wait waits for d or until ctx ends; a login refused past the lockout
	// threshold waits with it for as long as a refusal that evaluated a
	// password hash took (refusaltime.go). nil means a real timer; tests
	// inject one they control.
	Wait func(ctx context.Context, d time.Duration) error
}

// Service is the account domain service. It is safe for concurrent use.
type Service struct {
	d       Deps
	set     Settings
	metrics metrics
	hooks   deactivationHooks
	locks   *lockout.Locks
	// refusals are recent durations of login refusals that evaluated a
	// password hash.
	refusals refusalTimes
}

type metrics struct {
	verifications *prometheus.CounterVec
	logins        prometheus.Counter
	failures      *prometheus.CounterVec
}

// New returns a Service.
func New(d Deps, set Settings) (*Service, error) {
	if d.Guard == nil {
		d.Guard = lockout.Nop{}
	}
	if d.Wait == nil {
		d.Wait = sleep
	}
	if set.Lockout == (lockout.Policy{}) {
		set.Lockout = lockout.DefaultPolicy()
	}
	set.PublicURL = strings.TrimRight(set.PublicURL, "/")
	m := metrics{
		verifications: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "frontdesk_password_verifications_total",
			Help: "Password hashes actually evaluated, by result (ok, mismatch).",
		}, []string{"result"}),
		logins: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "frontdesk_logins_total",
			Help: "Successful logins.",
		}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "frontdesk_login_failures_total",
			Help: "Refused logins, by reason (malformed, unknown_account, mismatch, inactive, locked, throttled).",
		}, []string{"reason"}),
	}
	if d.Registry != nil {
		for _, c := range []prometheus.Collector{m.verifications, m.logins, m.failures} {
			if err := d.Registry.Register(c); err != nil {
				return nil, fmt.Errorf("account: metrics: %w", err)
			}
		}
	}
	// The durable lockout (lock, unlock, notices) over this service's store,
	// guard and mail; its counters join this service's metrics.
	svc := &Service{d: d, set: set, metrics: m}
	describe := func(ctx context.Context, practiceID, memberID string) string {
		p, err := d.Store.PracticeByID(ctx, practiceID)
		if err != nil {
			return ""
		}
		return svc.PersonLabel(ctx, d.Store, p, memberID)
	}
	locks, err := lockout.NewLocks(lockout.LockDeps{Store: d.Store, Guard: d.Guard,
		Permissions: unlockPermissions{perms: d.Permissions, store: d.Store}, Mail: d.Mail, Mails: d.Mails,
		Logger: d.Logger, Registry: d.Registry, Now: d.Now, NewID: d.NewID, Describe: describe},
		lockout.LockSettings{PublicURL: set.PublicURL, Default: set.Lockout})
	if err != nil {
		return nil, fmt.Errorf("account: %w", err)
	}
	svc.locks = locks
	return svc, nil
}

// MinPasswordLength is the policy's minimum, for pages to show.
func (s *Service) MinPasswordLength() int { return s.d.Policy.MinLength() }

// Practice looks up a practice by slug.
func (s *Service) Practice(ctx context.Context, slug string) (store.Practice, error) {
	if len(slug) > 63 {
		return store.Practice{}, ErrPracticeNotFound
	}
	p, err := s.d.Store.PracticeBySlug(ctx, slug)
	if errors.Is(err, store.ErrNotFound) {
		return store.Practice{}, ErrPracticeNotFound
	}
	if err != nil {
		return store.Practice{}, fmt.Errorf("account: practice: %w", err)
	}
	return p, nil
}

// ParseEmail checks that s is one plain email address (no display name, no
// line breaks, at most 254 bytes) and returns it trimmed of surrounding space.
func ParseEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", &InvalidInputError{Field: "email", Reason: "is required"}
	}
	if len(s) > 254 || !utf8.ValidString(s) || strings.ContainsFunc(s, unicode.IsControl) {
		return "", &InvalidInputError{Field: "email", Reason: "is not a valid email address"}
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return "", &InvalidInputError{Field: "email", Reason: "is not a valid email address"}
	}
	return s, nil
}

func (s *Service) audit(ctx context.Context, st *store.Store, e store.AuditEvent, meta Meta) error {
	e.At = s.d.Now()
	e.ClientAddr, e.UserAgent, e.RequestID = meta.ClientAddr, truncate(meta.UserAgent, 256), meta.RequestID
	if err := st.AppendAudit(ctx, e); err != nil {
		return fmt.Errorf("account: audit %s: %w", e.Action, err)
	}
	return nil
}

// auditBestEffort records an event whose failure must not change the answer
// (a refused login stays refused); the failure is logged.
func (s *Service) auditBestEffort(ctx context.Context, e store.AuditEvent, meta Meta) {
	if err := s.audit(ctx, s.d.Store, e, meta); err != nil {
		s.d.Logger.ErrorContext(ctx, "audit write failed", "action", e.Action, "err", err)
	}
}

func (s *Service) link(path string, q url.Values) string {
	u := s.set.PublicURL + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

func truncate(v string, n int) string {
	if len(v) <= n {
		return v
	}
	for n > 0 && !utf8.RuneStart(v[n]) {
		n--
	}
	return v[:n]
}
