package account

import (
	"context"
	"errors"
	"fmt"

	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/invites"
	"github.com/frontdeskhq/frontdesk/lockout"
)

// SetupView is what the setup page shows before anything is consumed.
type SetupView struct {
	Practice store.Practice
	Email    string
}

// OpenSetupLink checks a setup link without consuming it, so opening it many
// times (as mail scanners do) changes nothing.
func (s *Service) OpenSetupLink(ctx context.Context, practiceSlug, token string) (SetupView, error) {
	v, _, _, err := s.checkSetupLink(ctx, practiceSlug, token)
	return v, err
}

func (s *Service) checkSetupLink(ctx context.Context, practiceSlug, token string) (SetupView, store.Link, store.Member, error) {
	p, err := s.Practice(ctx, practiceSlug)
	if err != nil {
		return SetupView{}, store.Link{}, store.Member{}, err
	}
	if token == "" {
		return SetupView{}, store.Link{}, store.Member{}, ErrLinkInvalid
	}
	l, err := s.d.Store.LinkByTokenHash(ctx, invites.HashToken(token))
	if errors.Is(err, store.ErrNotFound) {
		return SetupView{}, store.Link{}, store.Member{}, ErrLinkInvalid
	}
	if err != nil {
		return SetupView{}, store.Link{}, store.Member{}, fmt.Errorf("account: setup link: %w", err)
	}
	if l.Purpose != store.PurposeSetup || l.PracticeID != p.ID || !l.ConsumedAt.IsZero() || !s.d.Now().Before(l.ExpiresAt) {
		return SetupView{}, store.Link{}, store.Member{}, ErrLinkInvalid
	}
	m, err := s.d.Store.MemberByID(ctx, p.ID, l.MemberID)
	if err != nil {
		return SetupView{}, store.Link{}, store.Member{}, fmt.Errorf("account: setup link member: %w", err)
	}
	if m.Status == store.StatusDeactivated || m.Status == store.StatusLocked {
		return SetupView{}, store.Link{}, store.Member{}, ErrLinkInvalid
	}
	return SetupView{Practice: p, Email: m.Email}, l, m, nil
}

// CompleteSetup redeems a setup link: it checks the new password against the
// policy, then in one transaction consumes the link, stores the password and
// activates the member, and finally starts a session. Of two concurrent
// redemptions of one link exactly one succeeds.
func (s *Service) CompleteSetup(ctx context.Context, practiceSlug, token, newPw, confirm string, meta Meta) (Principal, string, error) {
	v, l, m, err := s.checkSetupLink(ctx, practiceSlug, token)
	if err != nil {
		return Principal{}, "", err
	}
	hash, err := s.newPasswordHash(ctx, v.Practice, m, newPw, confirm)
	if err != nil {
		return Principal{}, "", err
	}
	now := s.d.Now()
	err = s.d.Store.InTx(ctx, func(tx *store.Store) error {
		if err := tx.ConsumeLink(ctx, l.ID, now); err != nil {
			return err
		}
		if err := tx.SetPassword(ctx, m.ID, hash, now, true); err != nil {
			return err
		}
		return s.audit(ctx, tx, store.AuditEvent{PracticeID: v.Practice.ID, Action: "password.set", Outcome: "success",
			ActorID: m.ID, SubjectID: m.ID, Details: map[string]string{"via": string(l.Purpose) + "_link"}}, meta)
	})
	if errors.Is(err, store.ErrLinkUnusable) {
		return Principal{}, "", ErrLinkInvalid
	}
	if err != nil {
		return Principal{}, "", fmt.Errorf("account: complete setup: %w", err)
	}
	m, err = s.d.Store.MemberByID(ctx, v.Practice.ID, m.ID)
	if err != nil {
		return Principal{}, "", fmt.Errorf("account: complete setup: %w", err)
	}
	return s.startSession(ctx, v.Practice, m, []string{MethodPassword}, meta)
}

// ChangePassword changes the signed-in member's password after checking the
// current one. Every other session of the member ends; the current one stays.
func (s *Service) ChangePassword(ctx context.Context, pr Principal, current, newPw, confirm string, meta Meta) error {
	if len(current) > maxPasswordBytes {
		return ErrWrongPassword
	}
	hash, err := s.newPasswordHash(ctx, pr.Practice, pr.Member, newPw, confirm)
	if err != nil {
		return err
	}
	// The current password is counted like a login attempt: a stolen session
	// does not buy unlimited guesses.
	att, ticket, err := s.beginAttempt(ctx, pr.Practice, pr.Member.Email, meta)
	switch {
	case errors.Is(err, errCounted):
		return ErrWrongPassword
	case errors.Is(err, lockout.ErrThrottled):
		return ErrUnavailable
	case err != nil:
		return err
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
	// Re-read the member so the check uses the hash stored now, not the one
	// loaded with the session.
	m, err := s.d.Store.MemberByID(ctx, pr.Practice.ID, pr.Member.ID)
	if err != nil {
		return fmt.Errorf("account: change password: %w", err)
	}
	if m.Status != store.StatusActive {
		// A session from before a lock lives on, but a locked account's
		// password is never evaluated.
		return ErrWrongPassword
	}
	ok, _, err := s.d.Hasher.Verify(ctx, m.PasswordHash, current)
	if err != nil {
		return fmt.Errorf("account: change password: %w", err)
	}
	if !ok {
		s.metrics.verifications.WithLabelValues("mismatch").Inc()
		settled = true
		s.recordFailure(ctx, pr.Practice, att, ticket, &m, meta)
		s.auditBestEffort(ctx, store.AuditEvent{PracticeID: pr.Practice.ID, Action: "password.change", Outcome: "failure",
			ActorID: m.ID, SubjectID: m.ID, Details: map[string]string{"reason": "wrong_current_password"}}, meta)
		return ErrWrongPassword
	}
	s.metrics.verifications.WithLabelValues("ok").Inc()
	settled = true
	if err := s.d.Guard.Succeeded(ctx, att); err != nil {
		s.d.Logger.ErrorContext(ctx, "lockout guard failed to reset", "err", err)
	}
	if current == newPw {
		return ErrSamePassword
	}
	now := s.d.Now()
	return s.d.Store.InTx(ctx, func(tx *store.Store) error {
		if err := tx.SetPassword(ctx, m.ID, hash, now, false); err != nil {
			return err
		}
		ended, err := tx.EndMemberSessions(ctx, m.ID, pr.Session.ID, now)
		if err != nil {
			return err
		}
		return s.audit(ctx, tx, store.AuditEvent{PracticeID: pr.Practice.ID, Action: "password.change", Outcome: "success",
			ActorID: m.ID, SubjectID: m.ID, Details: map[string]string{"other_sessions_ended": fmt.Sprint(ended)}}, meta)
	})
}

// newPasswordHash checks a chosen password (confirmation, policy with the
// practice and the member's email as context) and hashes it.
func (s *Service) newPasswordHash(ctx context.Context, p store.Practice, m store.Member, newPw, confirm string) (string, error) {
	if newPw != confirm {
		return "", ErrPasswordMismatch
	}
	if err := s.d.Policy.Check(newPw, p.Name, p.Slug, m.Email); err != nil {
		return "", err
	}
	h, err := s.d.Hasher.Hash(ctx, newPw)
	if err != nil {
		return "", fmt.Errorf("account: hash password: %w", err)
	}
	return h, nil
}
