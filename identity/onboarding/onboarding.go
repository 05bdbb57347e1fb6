// Package onboarding is how people come into a practice and back into their
// account by email: invitations (invite, list, resend, revoke, open, accept
// with a password or through single sign-on), temporary passwords issued by
// an administrator, and "forgot password" reset links with their background
// queue. Logging in with a temporary password, sessions, removal and the
// audit trail belong to identity/account, whose exported core
// (account.Service.Require, Audit, Enqueue, StartSession, NewPasswordHash, …)
// this package builds on; link tokens, mail transports and the outbox are
// package invites'.
//
// It does not import net/http: handlers translate requests into calls here and
// errors from here into pages.
package onboarding

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/password"
	"github.com/frontdeskhq/frontdesk/identity/problem"
	"github.com/frontdeskhq/frontdesk/identity/roles"
	"github.com/frontdeskhq/frontdesk/identity/store"
)

// Default lifetimes of onboarding links and temporary passwords.
const (
	DefaultInvitationTTL        = 7 * 24 * time.Hour
	DefaultResetTTL             = time.Hour
	DefaultTemporaryPasswordTTL = 24 * time.Hour
)

// Errors of onboarding.
var (
	// ErrAlreadyMember: the address belongs to an active (or locked) member
	// of the practice; nothing was sent.
	ErrAlreadyMember = problem.New(problem.Conflict, "already_member",
		"onboarding: this address already belongs to an active member of the practice",
		"This address already belongs to an active member of the practice.")
	// ErrInvitationNotFound: the practice has no such invitation.
	ErrInvitationNotFound = problem.New(problem.NotFound, "not_found", "onboarding: no such invitation in this practice",
		"There is no such invitation in this practice.")
	// ErrInvitationClosed: the invitation was accepted or revoked; it can
	// no longer be resent or revoked.
	ErrInvitationClosed = problem.New(problem.Conflict, "invitation_closed",
		"onboarding: the invitation was already accepted or revoked",
		"The invitation was already accepted or revoked. Invite the person again if they still need access.")
)

// Settings are the service's tunables.
type Settings struct {
	// InvitationTTL, ResetTTL and TemporaryPasswordTTL are how long an
	// invitation link, a password-reset link and a temporary password work;
	// zero means DefaultInvitationTTL, DefaultResetTTL and
	// DefaultTemporaryPasswordTTL.
	InvitationTTL        time.Duration
	ResetTTL             time.Duration
	TemporaryPasswordTTL time.Duration
	// ResetQueueSize is how many "forgot password" requests may wait for the
	// background worker (QueuePasswordReset); zero means
	// DefaultResetQueueSize.
	ResetQueueSize int
}

// Deps are the service's collaborators.
type Deps struct {
	// Accounts is the account core: practices, authorisation, audit, mail,
	// password hashing and sessions. Required.
	Accounts *account.Service
	Store    *store.Store
	// Roles is the role model; invitations are refused without it.
	Roles *roles.Service
	// Policy is the password policy a temporary password must meet.
	Policy   *password.Policy
	Logger   *slog.Logger
	Registry prometheus.Registerer // nil means metrics are not registered
	Now      func() time.Time
	NewID    func() string
	Random   io.Reader // crypto/rand.Reader in production
	// BeforeResetWork, when set, runs on the background worker before each
	// queued "forgot password" request is worked. Tests use it to hold the
	// worker; it is nil in production.
	BeforeResetWork func()
}

// Service is the onboarding service. It is safe for concurrent use.
type Service struct {
	acc    *account.Service
	d      Deps
	set    Settings
	resets *resetQueue
}

// New returns a Service and registers with d.Accounts the deactivation step
// that voids a removed member's open invitations (in the removal's
// transaction).
func New(d Deps, set Settings) (*Service, error) {
	if d.Accounts == nil {
		return nil, fmt.Errorf("onboarding: no account service")
	}
	if set.InvitationTTL <= 0 {
		set.InvitationTTL = DefaultInvitationTTL
	}
	if set.ResetTTL <= 0 {
		set.ResetTTL = DefaultResetTTL
	}
	if set.TemporaryPasswordTTL <= 0 {
		set.TemporaryPasswordTTL = DefaultTemporaryPasswordTTL
	}
	resets := newResetQueue(set.ResetQueueSize, d.BeforeResetWork)
	if d.Registry != nil {
		if err := d.Registry.Register(resets.dropped); err != nil {
			return nil, fmt.Errorf("onboarding: metrics: %w", err)
		}
	}
	s := &Service{acc: d.Accounts, d: d, set: set, resets: resets}
	d.Accounts.RegisterDeactivationStep(func(ctx context.Context, tx *store.Store, memberID string, now time.Time) error {
		return s.voidInvitations(ctx, tx, memberID, "member deactivated", now)
	})
	return s, nil
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
