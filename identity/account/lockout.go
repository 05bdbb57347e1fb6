package account

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/roles"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/lockout"
)

// This file is where login meets the lockout feature: the guard is consulted
// before any password is evaluated (beginAttempt) and told of each failure
// (recordFailure); the durable lock, unlock and their notices are the
// lockout package's Locks.

// ErrBusy: the attempts the lockout threshold allows at this account are all
// in flight; the password was not evaluated and nothing was counted, so the
// person may simply try again in a moment. It matches ErrUnavailable too.
// Unknown addresses are counted like accounts, so it reveals nothing about
// whether the account exists.
var ErrBusy = fmt.Errorf("account: too many sign-ins to this account at once: %w", ErrUnavailable)

// Locks is the lockout feature this service locks with: unlock, LockBlocks and
// the practice's lockout policy are its methods.
func (s *Service) Locks() *lockout.Locks { return s.locks }

// unlockPermissions answers lockout's question of who may unlock from the role
// model's unlock permission, or without a role model, from the owner role.
type unlockPermissions struct {
	perms Permissions // nil: owners only
	store *store.Store
}

// MayUnlock implements lockout.Permissions.
func (u unlockPermissions) MayUnlock(ctx context.Context, practiceID, memberID string) (bool, error) {
	if u.perms != nil {
		return u.perms.Allowed(ctx, practiceID, memberID, roles.PermUnlock)
	}
	m, err := u.store.MemberByID(ctx, practiceID, memberID)
	if err != nil {
		return false, err
	}
	return slices.Contains(m.Roles, OwnerRole), nil
}

// Unlockers implements lockout.Permissions.
func (u unlockPermissions) Unlockers(ctx context.Context, practiceID string) ([]string, error) {
	if u.perms != nil {
		return u.perms.Holders(ctx, practiceID, roles.PermUnlock)
	}
	ms, err := u.store.ActiveMembersWithRoleFor(ctx, practiceID, []string{OwnerRole})
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.ID
	}
	return ids, nil
}

// beginAttempt consults the guard before any password is evaluated. It
// returns the attempt and ticket to report the outcome with, or the error the
// caller returns: errCounted (the count is past the threshold: refuse as a
// wrong password), ErrBusy (attempts in flight fill the count; nothing
// counted), *lockout.ThrottledError, or ErrUnavailable.
func (s *Service) beginAttempt(ctx context.Context, p store.Practice, email string, meta Meta) (lockout.Attempt, lockout.Ticket, error) {
	att := lockout.Attempt{PracticeID: p.ID, AccountKey: store.EmailKey(email), ClientAddr: meta.ClientAddr,
		Policy: s.locks.Policy(ctx, p.Lockout())}
	t, err := s.d.Guard.Begin(ctx, att)
	var te *lockout.ThrottledError
	switch {
	case err == nil:
		return att, t, nil
	case errors.As(err, &te):
		s.metrics.failures.WithLabelValues("throttled").Inc()
		return att, t, &lockout.ThrottledError{RetryAfter: te.RetryAfter}
	case errors.Is(err, lockout.ErrThrottled):
		s.metrics.failures.WithLabelValues("throttled").Inc()
		return att, t, &lockout.ThrottledError{RetryAfter: time.Minute}
	case errors.Is(err, lockout.ErrBusy):
		// Not a failure: it counts toward no limit.
		s.metrics.failures.WithLabelValues("busy").Inc()
		return att, t, ErrBusy
	case errors.Is(err, lockout.ErrRecovering):
		s.d.Logger.WarnContext(ctx, "lockout counts are being rebuilt after Redis lost them; refusing the attempt without evaluating the password", "err", err)
		return att, t, fmt.Errorf("%w (%w)", ErrUnavailable, err)
	case errors.Is(err, lockout.ErrLocked):
		// Still a failure from this address: it counts toward the address limit.
		s.recordFailure(ctx, p, att, lockout.Ticket{}, nil, meta)
		if t.Rebuilt {
			// The counts were rebuilt after Redis lost them and reached
			// the threshold; the failure that reached it may have been
			// counted only in the lost counts, so no lock was written.
			s.locks.LockIfActive(ctx, p.Lockout(), email, t.Count, lockout.Meta(meta))
		}
		return att, t, errCounted
	default:
		s.d.Logger.ErrorContext(ctx, "lockout counter unavailable; refusing the attempt without evaluating the password", "err", err)
		return att, t, ErrUnavailable
	}
}

// errCounted: the account's attempt count is past the threshold.
var errCounted = errors.New("account: attempt count past the threshold")

// recordFailure reports a failed attempt to the guard and, when it reached the
// threshold on an active member, has the lockout feature write the durable
// lock. m is nil when no member matched.
func (s *Service) recordFailure(ctx context.Context, p store.Practice, att lockout.Attempt, t lockout.Ticket, m *store.Member, meta Meta) {
	// The lock must be written even if the client went away.
	ctx = context.WithoutCancel(ctx)
	f, err := s.d.Guard.Failed(ctx, att, t)
	if err != nil {
		s.d.Logger.ErrorContext(ctx, "lockout guard failed to count a failure", "err", err)
	}
	if f.AddressLimitReached {
		s.d.Logger.WarnContext(ctx, "client address throttled after too many failed logins", "client_addr", meta.ClientAddr)
		s.auditBestEffort(ctx, store.AuditEvent{PracticeID: p.ID, Action: "login.throttle", Outcome: "success",
			Details: map[string]string{"client_addr": meta.ClientAddr}}, meta)
	}
	if f.Lock && m != nil && m.Status == store.StatusActive {
		s.locks.Lock(ctx, p.Lockout(), m.Lockout(), max(f.Failures, t.Count), lockout.Meta(meta))
	}
}
