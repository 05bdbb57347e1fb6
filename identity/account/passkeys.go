package account

import (
	"context"
	"errors"
	"fmt"

	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/lockout"
)

// Authentication methods of a passkey login (RFC 8176).
const (
	// MethodHardwareKey: proof of possession of a hardware-protected key (a
	// passkey).
	MethodHardwareKey = "hwk"
	// MethodUserPresence: the authenticator verified the user (PIN or
	// biometric); recorded with hwk when WebAuthn's UV flag was set.
	MethodUserPresence = "user"
)

// ErrReauthRequired: the action needs a recent login; ask for the password
// again (Reauthenticate) and retry.
var ErrReauthRequired = errors.New("account: please confirm your password first")

// StartPasskeySession starts a session for a member whose passkey assertion
// the caller (package passkeys) has already verified. The member is re-read:
// deactivated or unfinished members get ErrInvalidCredentials, and so does a
// locked member when the practice's lockout policy blocks every method
// (lockout.blocks: all; LockBlocks). Password attempt counters are never
// consulted or changed. details (which must hold no secret, for example the
// passkey's ID) are added to the audit event.
func (s *Service) StartPasskeySession(ctx context.Context, p store.Practice, memberID string, userVerified bool,
	details map[string]string, meta Meta) (Principal, string, error) {
	amr := []string{MethodHardwareKey}
	if userVerified {
		amr = append(amr, MethodUserPresence)
	}
	return s.startMethodSession(ctx, p, memberID, MethodHardwareKey, amr, details, meta)
}

// Reauthenticate checks the signed-in member's password again (counted like a
// login attempt, so a stolen session buys no free guesses) and moves the
// session's auth time to now, for actions that need a recent login such as
// registering a passkey. A wrong password is ErrWrongPassword.
func (s *Service) Reauthenticate(ctx context.Context, pr Principal, pw string, meta Meta) (Principal, error) {
	if pw == "" || len(pw) > maxPasswordBytes {
		return Principal{}, ErrWrongPassword
	}
	att, ticket, err := s.beginAttempt(ctx, pr.Practice, pr.Member.Email, meta)
	switch {
	case errors.Is(err, errCounted):
		return Principal{}, ErrWrongPassword
	case errors.Is(err, lockout.ErrThrottled):
		return Principal{}, ErrUnavailable
	case err != nil:
		return Principal{}, err
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
	m, err := s.d.Store.MemberByID(ctx, pr.Practice.ID, pr.Member.ID)
	if err != nil {
		return Principal{}, fmt.Errorf("account: reauthenticate: %w", err)
	}
	if m.Status != store.StatusActive || m.PasswordHash == "" {
		if err := s.verifyDummy(ctx, pw); err != nil {
			return Principal{}, err
		}
		return Principal{}, ErrWrongPassword
	}
	ok, _, err := s.d.Hasher.Verify(ctx, m.PasswordHash, pw)
	if err != nil {
		return Principal{}, fmt.Errorf("account: reauthenticate: %w", err)
	}
	if !ok {
		s.metrics.verifications.WithLabelValues("mismatch").Inc()
		settled = true
		s.recordFailure(ctx, pr.Practice, att, ticket, &m, meta)
		s.auditBestEffort(ctx, store.AuditEvent{PracticeID: pr.Practice.ID, Action: "reauthenticate", Outcome: "failure",
			ActorID: m.ID, SubjectID: m.ID, Details: map[string]string{"reason": "mismatch", "method": MethodPassword}}, meta)
		return Principal{}, ErrWrongPassword
	}
	s.metrics.verifications.WithLabelValues("ok").Inc()
	settled = true
	if err := s.d.Guard.Succeeded(ctx, att); err != nil {
		s.d.Logger.ErrorContext(ctx, "lockout guard failed to reset", "err", err)
	}
	now := s.d.Now()
	err = s.d.Store.InTx(ctx, func(tx *store.Store) error {
		if err := tx.ReauthenticateSession(ctx, pr.Session.ID, now); err != nil {
			return err
		}
		return s.audit(ctx, tx, store.AuditEvent{PracticeID: pr.Practice.ID, Action: "reauthenticate", Outcome: "success",
			ActorID: m.ID, SubjectID: m.ID, Details: map[string]string{"method": MethodPassword, "session": pr.Session.ID}}, meta)
	})
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, ErrNoSession
	}
	if err != nil {
		return Principal{}, fmt.Errorf("account: reauthenticate: %w", err)
	}
	pr.Session.AuthTime = now
	pr.Member = m
	return pr, nil
}

// Audit records a security event on behalf of another domain service (for
// example passkey registration and removal) with the request's metadata.
// Details must never hold a secret.
func (s *Service) Audit(ctx context.Context, st *store.Store, e store.AuditEvent, meta Meta) error {
	if st == nil {
		st = s.d.Store
	}
	return s.audit(ctx, st, e, meta)
}

// AuditBestEffort is Audit for events whose failure must not change the
// answer (a refused login stays refused); a failure is logged.
func (s *Service) AuditBestEffort(ctx context.Context, e store.AuditEvent, meta Meta) {
	s.auditBestEffort(ctx, e, meta)
}
