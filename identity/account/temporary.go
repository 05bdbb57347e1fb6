package account

// This file holds logging in WITH a temporary password and choosing a new
// one afterwards; issuing temporary passwords is identity/onboarding's.

import (
	"context"
	"errors"
	"fmt"

	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/invites"
	"github.com/frontdeskhq/frontdesk/lockout"
)

// ErrPasswordChangeRequired: the session was started with a temporary
// password and may only set a new password. It matches ErrNoSession too, so
// code that only knows ErrNoSession refuses such a session.
var ErrPasswordChangeRequired error = passwordChangeRequired{}

type passwordChangeRequired struct{}

func (passwordChangeRequired) Error() string {
	return "account: a new password must be set before anything else"
}

// Is makes errors.Is(err, ErrNoSession) true.
func (passwordChangeRequired) Is(target error) bool { return target == ErrNoSession }

// loginTemporary tries pw as the member's temporary password after the
// regular password did not match. used reports that it matched and was
// consumed: the returned principal's session may only set a new password.
func (s *Service) loginTemporary(ctx context.Context, p store.Practice, m store.Member, att lockout.Attempt, pw string,
	meta Meta) (Principal, string, bool, error) {
	now := s.d.Now()
	tp, err := s.d.Store.ActiveTemporaryPassword(ctx, m.ID, now)
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, "", false, nil
	}
	if err != nil {
		return Principal{}, "", false, fmt.Errorf("account: temporary password: %w", err)
	}
	ok, err := s.matchTemporary(ctx, tp.PasswordHash, pw)
	if err != nil {
		return Principal{}, "", false, fmt.Errorf("account: verify temporary password: %w", err)
	}
	if !ok {
		return Principal{}, "", false, nil
	}
	s.metrics.verifications.WithLabelValues("ok").Inc()
	token, hash, err := invites.NewToken(s.d.Random)
	if err != nil {
		return Principal{}, "", false, fmt.Errorf("account: session token: %w", err)
	}
	sess := store.Session{ID: s.d.NewID(), PracticeID: p.ID, MemberID: m.ID, AMR: []string{MethodPassword},
		AuthTime: now, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(s.set.AbsoluteLifetime), MustChangePassword: true}
	err = s.d.Store.InTx(ctx, func(tx *store.Store) error {
		if err := tx.UseTemporaryPassword(ctx, tp.ID, now); err != nil {
			return err
		}
		if m.Status == store.StatusInvited {
			// First access of a member onboarded by temporary password: the
			// practice must (still) onboard that way.
			if byTemp, err := s.onboardsByTemporaryPassword(ctx, tx, p); err != nil {
				return err
			} else if !byTemp {
				return store.ErrNotFound
			}
			if err := tx.ActivateByTemporaryPassword(ctx, m.ID, now); err != nil {
				return err
			}
			m.Status = store.StatusActive
			if err := s.audit(ctx, tx, store.AuditEvent{PracticeID: p.ID, Action: "invitation.accept", Outcome: "success",
				ActorID: m.ID, SubjectID: m.ID, Details: map[string]string{"method": "temporary_password"}}, meta); err != nil {
				return err
			}
		} else if err := tx.RequireActiveMember(ctx, m.ID); err != nil {
			return err
		}
		if err := tx.CreateSession(ctx, sess, hash); err != nil {
			return err
		}
		return s.audit(ctx, tx, store.AuditEvent{PracticeID: p.ID, Action: "login", Outcome: "success",
			ActorID: m.ID, SubjectID: m.ID, Details: map[string]string{"method": MethodPassword, "session": sess.ID,
				"temporary_password": "true", "restricted": "must_change_password"}}, meta)
	})
	if errors.Is(err, store.ErrLinkUnusable) || errors.Is(err, store.ErrNotFound) {
		// Used by a concurrent login, or the member was locked meanwhile.
		return Principal{}, "", false, nil
	}
	if err != nil {
		return Principal{}, "", false, fmt.Errorf("account: temporary login: %w", err)
	}
	if err := s.d.Guard.Succeeded(ctx, att); err != nil {
		s.d.Logger.ErrorContext(ctx, "lockout guard failed to reset", "err", err)
	}
	s.metrics.logins.Inc()
	return Principal{Session: sess, Member: m, Practice: p, MustChangePassword: true}, token, true, nil
}

// AuthenticateRestricted is Authenticate for the set-new-password page: it
// also accepts a session started with a temporary password (Principal's
// MustChangePassword tells which).
func (s *Service) AuthenticateRestricted(ctx context.Context, practiceSlug, token string) (Principal, error) {
	return s.authenticate(ctx, practiceSlug, token)
}

// SetRequiredPassword lets a member signed in with a temporary password choose
// their own. The new password must meet the policy and differ from the
// temporary one. One transaction stores it, ends every session of the member
// (the restricted one included) and voids their other temporary passwords;
// then a fresh, unrestricted session starts (its token is returned).
func (s *Service) SetRequiredPassword(ctx context.Context, pr Principal, newPw, confirm string, meta Meta) (Principal, string, error) {
	if !pr.MustChangePassword {
		return Principal{}, "", ErrNoSession
	}
	hash, err := s.newPasswordHash(ctx, pr.Practice, pr.Member, newPw, confirm)
	if err != nil {
		return Principal{}, "", err
	}
	used, err := s.d.Store.LastUsedTemporaryPassword(ctx, pr.Member.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return Principal{}, "", fmt.Errorf("account: set password: %w", err)
	}
	if err == nil {
		same, err := s.matchTemporary(ctx, used.PasswordHash, newPw)
		if err != nil {
			return Principal{}, "", fmt.Errorf("account: set password: %w", err)
		}
		if same {
			return Principal{}, "", ErrSamePassword
		}
	}
	now := s.d.Now()
	err = s.d.Store.InTx(ctx, func(tx *store.Store) error {
		if err := tx.RequireActiveMember(ctx, pr.Member.ID); err != nil {
			return err
		}
		if err := tx.SetPassword(ctx, pr.Member.ID, hash, now, false); err != nil {
			return err
		}
		ended, err := tx.EndMemberSessions(ctx, pr.Member.ID, "", now)
		if err != nil {
			return err
		}
		if _, err := tx.VoidTemporaryPasswords(ctx, pr.Member.ID, now); err != nil {
			return err
		}
		return s.audit(ctx, tx, store.AuditEvent{PracticeID: pr.Practice.ID, Action: "password.set", Outcome: "success",
			ActorID: pr.Member.ID, SubjectID: pr.Member.ID, Details: map[string]string{"via": "temporary_password",
				"sessions_ended": fmt.Sprint(ended)}}, meta)
	})
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, "", ErrNoSession
	}
	if err != nil {
		return Principal{}, "", fmt.Errorf("account: set password: %w", err)
	}
	m, err := s.d.Store.MemberByID(ctx, pr.Practice.ID, pr.Member.ID)
	if err != nil {
		return Principal{}, "", fmt.Errorf("account: set password: %w", err)
	}
	return s.startSession(ctx, pr.Practice, m, []string{MethodPassword}, meta)
}
