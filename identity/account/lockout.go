package account

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/roles"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/invites"
	"github.com/frontdeskhq/frontdesk/lockout"
	"github.com/frontdeskhq/frontdesk/templates"
)

// ErrThrottled: too many failed logins came from the client's address; the
// answer is 429 with Retry-After. A *ThrottledError says how long to wait.
var ErrThrottled = errors.New("account: too many failed attempts from this address")

// ErrBusy: the attempts the lockout threshold allows at this account are all
// in flight; the password was not evaluated and nothing was counted, so the
// person may simply try again in a moment. It matches ErrUnavailable too.
// Unknown addresses are counted like accounts, so it reveals nothing about
// whether the account exists.
var ErrBusy = fmt.Errorf("account: too many sign-ins to this account at once: %w", ErrUnavailable)

// ThrottledError is ErrThrottled with the time until the address may try again.
type ThrottledError struct {
	RetryAfter time.Duration
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("%v; retry after %s", ErrThrottled, e.RetryAfter)
}

// Is makes errors.Is(err, ErrThrottled) true.
func (e *ThrottledError) Is(target error) bool { return target == ErrThrottled }

// RetryAfterSeconds is the wait as an HTTP Retry-After value (whole seconds,
// at least 1).
func (e *ThrottledError) RetryAfterSeconds() string { return lockout.RetryAfterSeconds(e.RetryAfter) }

// mayUnlock reports whether m may unlock accounts: an active member holding
// the unlock permission (seed 001: only the main administrator), or without a
// role model, holding the owner role.
func (s *Service) mayUnlock(ctx context.Context, m store.Member) bool {
	if m.Status != store.StatusActive {
		return false
	}
	if s.d.Permissions == nil {
		return slices.Contains(m.Roles, OwnerRole)
	}
	ok, err := s.d.Permissions.Allowed(ctx, m.PracticeID, m.ID, roles.PermUnlock)
	if err != nil {
		s.d.Logger.ErrorContext(ctx, "unlock permission check failed; treating as not allowed", "member", m.ID, "err", err)
		return false
	}
	return ok
}

// LockoutPolicy returns the practice's lockout policy: the configured default
// overridden by the practice's settings.
func (s *Service) LockoutPolicy(ctx context.Context, p store.Practice) lockout.Policy {
	pol, err := s.set.Lockout.WithSettings(p.Settings)
	if err != nil {
		s.d.Logger.WarnContext(ctx, "practice lockout settings ignored", "practice", p.Slug, "err", err)
	}
	return pol
}

// LockBlocks reports whether m is locked for a login by method (an amr value):
// password login always honours a lock; other methods only when the practice's
// policy says lockout.blocks: all. Passkey and SSO login call it.
func (s *Service) LockBlocks(ctx context.Context, p store.Practice, m store.Member, method string) bool {
	return m.Status == store.StatusLocked && s.LockoutPolicy(ctx, p).BlocksMethod(method)
}

// beginAttempt consults the guard before any password is evaluated. It
// returns the attempt and ticket to report the outcome with, or the error the
// caller returns: errCounted (the count is past the threshold: refuse as a
// wrong password), ErrBusy (attempts in flight fill the count; nothing
// counted), *ThrottledError, or ErrUnavailable.
func (s *Service) beginAttempt(ctx context.Context, p store.Practice, email string, meta Meta) (lockout.Attempt, lockout.Ticket, error) {
	att := lockout.Attempt{PracticeID: p.ID, AccountKey: store.EmailKey(email), ClientAddr: meta.ClientAddr,
		Policy: s.LockoutPolicy(ctx, p)}
	t, err := s.d.Guard.Begin(ctx, att)
	var te *lockout.ThrottledError
	switch {
	case err == nil:
		return att, t, nil
	case errors.As(err, &te):
		s.metrics.failures.WithLabelValues("throttled").Inc()
		return att, t, &ThrottledError{RetryAfter: te.RetryAfter}
	case errors.Is(err, lockout.ErrThrottled):
		s.metrics.failures.WithLabelValues("throttled").Inc()
		return att, t, &ThrottledError{RetryAfter: time.Minute}
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
			s.lockIfActive(ctx, p, email, t.Count, meta)
		}
		return att, t, errCounted
	default:
		s.d.Logger.ErrorContext(ctx, "lockout counter unavailable; refusing the attempt without evaluating the password", "err", err)
		return att, t, ErrUnavailable
	}
}

// lockIfActive writes the durable lock of the practice's member with that
// email when the member is active (lock is a no-op otherwise).
func (s *Service) lockIfActive(ctx context.Context, p store.Practice, email string, attempts int64, meta Meta) {
	ctx = context.WithoutCancel(ctx)
	m, err := s.d.Store.MemberByEmail(ctx, p.ID, email)
	if errors.Is(err, store.ErrNotFound) {
		return
	}
	if err != nil {
		s.d.Logger.ErrorContext(ctx, "lock after rebuilt counts: member unavailable", "err", err)
		return
	}
	if m.Status == store.StatusActive {
		s.lock(ctx, p, m, attempts, meta)
	}
}

// errCounted: the account's attempt count is past the threshold.
var errCounted = errors.New("account: attempt count past the threshold")

// recordFailure reports a failed attempt to the guard and, when it reached the
// threshold on an active member, writes the durable lock. m is nil when no
// member matched.
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
		s.lock(ctx, p, *m, max(f.Failures, t.Count), meta)
	}
}

// lock writes the durable lock (status and record in one transaction, with its
// audit event), counts it and notifies the member and the practice's
// administrators who may unlock.
func (s *Service) lock(ctx context.Context, p store.Practice, m store.Member, attempts int64, meta Meta) {
	addrs, err := s.d.Store.RecentFailureAddrs(ctx, p.ID, m.ID, 20)
	if err != nil {
		s.d.Logger.WarnContext(ctx, "lock: failure addresses unavailable", "err", err)
	}
	if meta.ClientAddr != "" && !slices.Contains(addrs, meta.ClientAddr) {
		addrs = append(addrs, meta.ClientAddr)
	}
	slices.Sort(addrs)
	rec := store.MemberLock{ID: s.d.NewID(), PracticeID: p.ID, MemberID: m.ID, LockedAt: s.d.Now(),
		Attempts: int(attempts), Addresses: addrs}
	locked := false
	err = s.d.Store.InTx(ctx, func(tx *store.Store) error {
		var err error
		if locked, err = tx.LockMember(ctx, rec); err != nil || !locked {
			return err
		}
		return s.audit(ctx, tx, store.AuditEvent{PracticeID: p.ID, Action: "member.lock", Outcome: "success",
			SubjectID: m.ID, Details: map[string]string{"lock": rec.ID, "attempts": strconv.Itoa(rec.Attempts),
				"addresses": strings.Join(addrs, ",")}}, meta)
	})
	if err != nil {
		// The counter still refuses every further attempt; only the durable
		// record is missing.
		s.d.Logger.ErrorContext(ctx, "lock not recorded", "member", m.ID, "err", err)
		return
	}
	if !locked {
		return
	}
	s.metrics.lockouts.Inc()
	s.d.Logger.WarnContext(ctx, "member locked after failed logins", "practice", p.Slug, "member", m.ID,
		"attempts", rec.Attempts)
	s.sendLockMails(ctx, p, m, rec)
}

func (s *Service) sendLockMails(ctx context.Context, p store.Practice, m store.Member, rec store.MemberLock) {
	loginURL := s.link("/p/"+p.Slug+"/login", nil)
	data := templates.LockoutMail{PracticeName: p.Name, RecipientName: GivenName(m), MemberName: MemberName(m),
		MemberEmail: m.Email, Attempts: rec.Attempts, LockedAt: FormatTimeIn(rec.LockedAt, p), Addresses: rec.Addresses,
		LoginURL: loginURL, ToAdmin: false}
	s.sendMail(ctx, "lockout-"+rec.ID, m.Email, data)
	// Administrators get a link straight to this member's Unlock.
	data.UnlockURL = s.ConsoleURL(p, "members/"+url.PathEscape(m.ID)+"/unlock")
	admins, err := s.unlockers(ctx, p.ID)
	if err != nil {
		s.d.Logger.ErrorContext(ctx, "lock notice: administrators unavailable", "err", err)
		return
	}
	data.ToAdmin = true
	for _, a := range admins {
		if a.ID == m.ID {
			continue
		}
		data.RecipientName = GivenName(a)
		s.sendMail(ctx, "lockout-"+rec.ID+"-"+a.ID, a.Email, data)
	}
}

// unlockers are the practice's members who may unlock accounts.
func (s *Service) unlockers(ctx context.Context, practiceID string) ([]store.Member, error) {
	if s.d.Permissions == nil {
		return s.d.Store.ActiveMembersWithRoleFor(ctx, practiceID, []string{OwnerRole})
	}
	ids, err := s.d.Permissions.Holders(ctx, practiceID, roles.PermUnlock)
	if err != nil {
		return nil, fmt.Errorf("account: who may unlock: %w", err)
	}
	var out []store.Member
	for _, id := range ids {
		m, err := s.d.Store.MemberByID(ctx, practiceID, id)
		if err != nil {
			return nil, fmt.Errorf("account: who may unlock: %w", err)
		}
		if m.Status == store.StatusActive {
			out = append(out, m)
		}
	}
	return out, nil
}

func (s *Service) sendMail(ctx context.Context, id, to string, data templates.MailData) {
	r, err := s.d.Mails.Render(data)
	if err == nil {
		err = s.d.Mail.Send(ctx, invites.Message{ID: id, To: to, Subject: r.Subject, Text: r.Text, HTML: r.HTML})
	}
	if err != nil {
		s.d.Logger.ErrorContext(ctx, "mail not delivered", "template", data.MailName(), "err", err)
	}
}

// UnlockResult says what Unlock did.
type UnlockResult struct {
	MemberID string
	// WasLocked is false when the member was not locked; the failed-attempt
	// count was cleared anyway.
	WasLocked bool
}

// Unlock lifts the lock of the practice's member with that email: it clears
// the failed-attempt count, makes the member active again, closes the lock
// record, audits the action with the actor and emails the member. Only the
// operator and members holding the unlock permission (seed 001: the main
// administrator) may.
func (s *Service) Unlock(ctx context.Context, practiceSlug, email string, actor Actor, meta Meta) (UnlockResult, error) {
	p, err := s.Practice(ctx, practiceSlug)
	if err != nil {
		return UnlockResult{}, err
	}
	if _, err := ParseEmail(email); err != nil {
		return UnlockResult{}, err
	}
	m, err := s.d.Store.MemberByEmail(ctx, p.ID, email)
	if errors.Is(err, store.ErrNotFound) {
		return UnlockResult{}, ErrMemberNotFound
	}
	if err != nil {
		return UnlockResult{}, fmt.Errorf("account: unlock: %w", err)
	}
	return s.unlock(ctx, p, m, actor, meta)
}

// UnlockMember is Unlock by member ID, for the admin API and console.
func (s *Service) UnlockMember(ctx context.Context, practiceSlug, memberID string, actor Actor, meta Meta) (UnlockResult, error) {
	p, err := s.Practice(ctx, practiceSlug)
	if err != nil {
		return UnlockResult{}, err
	}
	m, err := s.d.Store.MemberByID(ctx, p.ID, memberID)
	if errors.Is(err, store.ErrNotFound) {
		return UnlockResult{}, ErrMemberNotFound
	}
	if err != nil {
		return UnlockResult{}, fmt.Errorf("account: unlock: %w", err)
	}
	return s.unlock(ctx, p, m, actor, meta)
}

func (s *Service) unlock(ctx context.Context, p store.Practice, m store.Member, actor Actor, meta Meta) (UnlockResult, error) {
	if !actor.Operator {
		a, err := s.d.Store.MemberByID(ctx, p.ID, actor.MemberID)
		if err != nil || !s.mayUnlock(ctx, a) {
			s.auditBestEffort(ctx, store.AuditEvent{PracticeID: p.ID, Action: "member.unlock", Outcome: "failure",
				ActorID: actor.MemberID, SubjectID: m.ID, Details: map[string]string{"reason": "forbidden"}}, meta)
			return UnlockResult{}, ErrForbidden
		}
	}
	ctx = context.WithoutCancel(ctx)
	key := store.EmailKey(m.Email)
	// Clear the count before and after lifting the lock, so an attempt
	// counted in between cannot leave the account refused.
	if err := s.d.Guard.Reset(ctx, p.ID, key); err != nil {
		return UnlockResult{}, fmt.Errorf("account: unlock: %w", err)
	}
	var was bool
	err := s.d.Store.InTx(ctx, func(tx *store.Store) error {
		var err error
		if was, err = tx.UnlockMember(ctx, p.ID, m.ID, actor.id(), s.d.Now()); err != nil {
			return err
		}
		return s.audit(ctx, tx, store.AuditEvent{PracticeID: p.ID, Action: "member.unlock", Outcome: "success",
			ActorID: actor.id(), SubjectID: m.ID, Details: map[string]string{"was_locked": strconv.FormatBool(was)}}, meta)
	})
	if err != nil {
		return UnlockResult{}, fmt.Errorf("account: unlock: %w", err)
	}
	if err := s.d.Guard.Reset(ctx, p.ID, key); err != nil {
		return UnlockResult{}, fmt.Errorf("account: unlock: %w", err)
	}
	if was {
		s.metrics.unlocks.Inc()
		s.sendMail(ctx, "unlock-"+s.d.NewID(), m.Email, templates.UnlockMail{PracticeName: p.Name,
			RecipientName: GivenName(m), MemberEmail: m.Email, ActorName: s.PersonLabel(ctx, s.d.Store, p, actor.id()),
			UnlockedAt: FormatTimeIn(s.d.Now(), p), LoginURL: s.link("/p/"+p.Slug+"/login", nil)})
	}
	return UnlockResult{MemberID: m.ID, WasLocked: was}, nil
}
