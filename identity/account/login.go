package account

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/password"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/invites"
)

// Authentication methods, as in the amr claim (RFC 8176).
const (
	// MethodPassword: a password.
	MethodPassword = "pwd"
)

// maxPasswordBytes bounds a submitted password before anything else looks at it.
const maxPasswordBytes = 4 * 4096 // passwords.max_length is at most 4096 code points of up to 4 bytes

// errNotActive: the member is no longer active (locked or deactivated while
// the login was in flight).
var errNotActive = errors.New("account: member is not active")

// touchInterval is how stale a session's last-seen time may grow before a
// request refreshes it; idle timeouts are exact to within this interval.
const touchInterval = time.Minute

// Principal is a signed-in member: the session and whom it belongs to.
type Principal struct {
	Session  store.Session
	Member   store.Member
	Practice store.Practice
	// MustChangePassword is true for a session started with a temporary
	// password: it may only set a new password (SetRequiredPassword), and no
	// app may be given a code or token for it. Authenticate never returns
	// such a session; AuthenticateRestricted does.
	MustChangePassword bool
	// StrongLoginRequired is true for a session started with a password
	// alone by a member holding a role for which the practice requires a
	// passkey or single sign-on (loginpolicy.go): it may only enrol a first
	// passkey (AuthenticateEnrolment), and no app may be given a code or
	// token for it. Authenticate never returns such a session.
	StrongLoginRequired bool
}

// Login checks an email and password against the practice's members and starts
// a session. Unknown email, wrong password, and locked, deactivated or
// unfinished accounts all return ErrInvalidCredentials after the same work: a
// password hash is evaluated (a dummy one when there is no real one), so the
// answer and its timing reveal nothing. The lockout guard counts the attempt
// before any hash is evaluated: past the practice's threshold nothing is
// evaluated at all — the refusal waits on a timer as long as recent refusals
// that evaluated a hash took (refusaltime.go) — and the failure that reaches
// it locks the account (see lockout.go). While the threshold's attempts are
// all in flight a further one gets ErrBusy, uncounted. An address past its
// failure limit gets a *lockout.ThrottledError, and a counter that cannot be reached
// ErrUnavailable; in none of these cases is the password evaluated.
func (s *Service) Login(ctx context.Context, practiceSlug, email, pw string, meta Meta) (Principal, string, error) {
	p, err := s.Practice(ctx, practiceSlug)
	if err != nil {
		return Principal{}, "", err
	}
	fail := func(reason, subject string) error {
		s.metrics.failures.WithLabelValues(reason).Inc()
		details := map[string]string{"reason": reason, "method": MethodPassword}
		if e, err := ParseEmail(email); err == nil {
			details["email"] = e
		}
		s.auditBestEffort(ctx, store.AuditEvent{PracticeID: p.ID, Action: "login", Outcome: "failure",
			SubjectID: subject, Details: details}, meta)
		return ErrInvalidCredentials
	}
	if len(email) > 254 || len(pw) > maxPasswordBytes || pw == "" {
		return Principal{}, "", fail("malformed", "")
	}
	// Count the attempt before anything is evaluated: past the threshold the
	// password is not looked at, whether or not the account exists. Such a
	// refusal still takes as long as one that evaluated a hash (start is
	// where both are measured from), so its timing does not tell that the
	// count is past the threshold.
	start := s.d.Now()
	refuse := func(reason, subject string) error {
		err := fail(reason, subject)
		s.refusals.add(s.d.Now().Sub(start))
		return err
	}
	att, ticket, err := s.beginAttempt(ctx, p, email, meta)
	switch {
	case errors.Is(err, errCounted):
		err := fail("locked", "")
		s.refuseCounted(ctx, start, pw)
		return Principal{}, "", err
	case err != nil:
		return Principal{}, "", err
	}
	// Every attempt Begin let through is settled exactly once: as a failure,
	// as a success, or — when it ended with no verdict on the password (busy
	// hasher, a failed dependency, an account whose password is not
	// evaluated) — released, so it neither counts nor blocks later logins.
	settled := false
	defer func() {
		if !settled {
			if err := s.d.Guard.Release(context.WithoutCancel(ctx), att); err != nil {
				s.d.Logger.ErrorContext(ctx, "lockout guard failed to release an attempt", "err", err)
			}
		}
	}()
	m, err := s.d.Store.MemberByEmail(ctx, p.ID, email)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return Principal{}, "", fmt.Errorf("account: login: %w", err)
	}
	if err == nil && m.Status == store.StatusInvited && m.PasswordHash == "" {
		// A member whose practice onboards by temporary password (seed 004)
		// logs in first with the one they were emailed; it activates them
		// and opens a session that can only set their own password. Any
		// other password falls through to the refusal below (and its dummy
		// hash, so the timing is that of any refusal).
		if pr, token, used, err := s.loginTemporary(ctx, p, m, att, pw, meta); used || err != nil {
			settled = used
			return pr, token, err
		}
	}
	if err != nil || m.PasswordHash == "" || m.Status != store.StatusActive {
		// A locked account's password is never evaluated; the dummy hash
		// keeps the answer's timing that of any other refusal.
		if err := s.verifyDummy(ctx, pw); err != nil {
			return Principal{}, "", err
		}
		reason := "unknown_account"
		var mp *store.Member
		switch {
		case err != nil:
		case m.Status == store.StatusLocked:
			reason, mp = "locked", &m
		default:
			reason, mp = "inactive", &m
		}
		settled = true
		s.recordFailure(ctx, p, att, ticket, mp, meta)
		return Principal{}, "", refuse(reason, m.ID)
	}
	ok, rehash, err := s.d.Hasher.Verify(ctx, m.PasswordHash, pw)
	if errors.Is(err, password.ErrBusy) {
		return Principal{}, "", fmt.Errorf("account: verify password: %w (%w)", ErrUnavailable, err)
	}
	if err != nil {
		return Principal{}, "", fmt.Errorf("account: verify password: %w", err)
	}
	if !ok {
		// A temporary password an administrator had emailed opens a session
		// that can only set a new password (temporary.go).
		if pr, token, used, err := s.loginTemporary(ctx, p, m, att, pw, meta); used || err != nil {
			settled = used // a used temporary password reset the count
			return pr, token, err
		}
		s.metrics.verifications.WithLabelValues("mismatch").Inc()
		settled = true
		s.recordFailure(ctx, p, att, ticket, &m, meta)
		return Principal{}, "", refuse("mismatch", m.ID)
	}
	s.metrics.verifications.WithLabelValues("ok").Inc()
	pr, token, err := s.startSession(ctx, p, m, []string{MethodPassword}, meta)
	if errors.Is(err, errNotActive) {
		// Locked (or deactivated) while the password was being checked.
		return Principal{}, "", fail("locked", m.ID)
	}
	if err != nil {
		return Principal{}, "", err
	}
	settled = true
	if err := s.d.Guard.Succeeded(ctx, att); err != nil {
		s.d.Logger.ErrorContext(ctx, "lockout guard failed to reset", "err", err)
	}
	if rehash {
		s.upgradeHash(ctx, m, pw)
	}
	s.metrics.logins.Inc()
	return pr, token, nil
}

// upgradeHash re-hashes a correct password under the current parameters. It is
// best effort: failure leaves the old, still valid hash in place.
func (s *Service) upgradeHash(ctx context.Context, m store.Member, pw string) {
	h, err := s.d.Hasher.Hash(ctx, pw)
	if err == nil {
		err = s.d.Store.RehashPassword(ctx, m.ID, m.PasswordHash, h, s.d.Now())
	}
	if err != nil {
		s.d.Logger.WarnContext(ctx, "password hash upgrade failed", "member", m.ID, "err", err)
		return
	}
	s.d.Logger.InfoContext(ctx, "password hash upgraded to current parameters", "member", m.ID)
}

// startSession creates a new session (a fresh token: sessions are rotated at
// every login) and records the login.
func (s *Service) startSession(ctx context.Context, p store.Practice, m store.Member, amr []string, meta Meta) (Principal, string, error) {
	token, hash, err := invites.NewToken(s.d.Random)
	if err != nil {
		return Principal{}, "", fmt.Errorf("account: session token: %w", err)
	}
	restricted, err := s.strongLoginRequired(ctx, p.ID, m, amr)
	if err != nil {
		return Principal{}, "", err
	}
	now := s.d.Now()
	sess := store.Session{ID: s.d.NewID(), PracticeID: p.ID, MemberID: m.ID, AMR: amr, AuthTime: now,
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(s.set.AbsoluteLifetime)}
	details := map[string]string{"method": amr[0], "session": sess.ID}
	if restricted {
		details["restricted"] = "strong_login_required"
	}
	err = s.d.Store.InTx(ctx, func(tx *store.Store) error {
		// A member locked or deactivated meanwhile gets no session; the row
		// lock taken here orders this against a concurrent lock.
		if err := tx.RequireActiveMember(ctx, m.ID); errors.Is(err, store.ErrNotFound) {
			return errNotActive
		} else if err != nil {
			return err
		}
		if err := tx.CreateSession(ctx, sess, hash); err != nil {
			return err
		}
		return s.audit(ctx, tx, store.AuditEvent{PracticeID: p.ID, Action: "login", Outcome: "success",
			ActorID: m.ID, SubjectID: m.ID, Details: details}, meta)
	})
	if errors.Is(err, errNotActive) {
		return Principal{}, "", err
	}
	if err != nil {
		return Principal{}, "", fmt.Errorf("account: start session: %w", err)
	}
	return Principal{Session: sess, Member: m, Practice: p, StrongLoginRequired: restricted}, token, nil
}

// Authenticate resolves a session cookie's token to the signed-in member of the
// named practice. A session that ended, passed its absolute lifetime or its
// idle timeout, belongs to another practice, or whose member was deactivated
// yields ErrNoSession.
//
// A session started with a temporary password yields ErrPasswordChangeRequired
// (which also matches ErrNoSession): it is good for nothing but choosing a
// new password, through AuthenticateRestricted. A session the practice's
// login policy restricts (a password login of a member who must use a passkey
// or single sign-on) yields ErrStrongLoginRequired (which also matches
// ErrNoSession): it is good for nothing but enrolling a first passkey,
// through AuthenticateEnrolment.
func (s *Service) Authenticate(ctx context.Context, practiceSlug, token string) (Principal, error) {
	pr, err := s.authenticate(ctx, practiceSlug, token)
	switch {
	case err != nil:
		return Principal{}, err
	case pr.MustChangePassword:
		return Principal{}, ErrPasswordChangeRequired
	case pr.StrongLoginRequired:
		return Principal{}, ErrStrongLoginRequired
	}
	return pr, nil
}

func (s *Service) authenticate(ctx context.Context, practiceSlug, token string) (Principal, error) {
	if token == "" {
		return Principal{}, ErrNoSession
	}
	sess, err := s.d.Store.SessionByTokenHash(ctx, invites.HashToken(token))
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, ErrNoSession
	}
	if err != nil {
		return Principal{}, fmt.Errorf("account: session: %w", err)
	}
	now := s.d.Now()
	if !sess.EndedAt.IsZero() || !now.Before(sess.ExpiresAt) || !now.Before(sess.LastSeenAt.Add(s.set.IdleTimeout)) {
		return Principal{}, ErrNoSession
	}
	p, err := s.d.Store.PracticeByID(ctx, sess.PracticeID)
	if err != nil {
		return Principal{}, fmt.Errorf("account: session practice: %w", err)
	}
	if p.Slug != practiceSlug {
		return Principal{}, ErrNoSession
	}
	m, err := s.d.Store.MemberByID(ctx, p.ID, sess.MemberID)
	if err != nil {
		return Principal{}, fmt.Errorf("account: session member: %w", err)
	}
	if m.Status == store.StatusDeactivated || m.Status == store.StatusInvited {
		_ = s.d.Store.EndSession(ctx, sess.ID, now)
		return Principal{}, ErrNoSession
	}
	if now.Sub(sess.LastSeenAt) >= touchInterval {
		if err := s.d.Store.TouchSession(ctx, sess.ID, now); err != nil {
			return Principal{}, fmt.Errorf("account: touch session: %w", err)
		}
		sess.LastSeenAt = now
	}
	pr := Principal{Session: sess, Member: m, Practice: p, MustChangePassword: sess.MustChangePassword}
	if !pr.MustChangePassword {
		if pr.StrongLoginRequired, err = s.strongLoginRequired(ctx, p.ID, m, sess.AMR); err != nil {
			return Principal{}, err
		}
	}
	return pr, nil
}

// Logout ends the session behind token, server-side. Unknown or already ended
// sessions are not an error: logging out is always safe to repeat.
func (s *Service) Logout(ctx context.Context, token string, meta Meta) error {
	if token == "" {
		return nil
	}
	sess, err := s.d.Store.SessionByTokenHash(ctx, invites.HashToken(token))
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("account: logout: %w", err)
	}
	if !sess.EndedAt.IsZero() {
		return nil
	}
	return s.d.Store.InTx(ctx, func(tx *store.Store) error {
		if err := tx.EndSession(ctx, sess.ID, s.d.Now()); err != nil {
			return err
		}
		return s.audit(ctx, tx, store.AuditEvent{PracticeID: sess.PracticeID, Action: "logout", Outcome: "success",
			ActorID: sess.MemberID, SubjectID: sess.MemberID, Details: map[string]string{"session": sess.ID}}, meta)
	})
}
