package account

import (
	"context"
	"errors"
	"fmt"
	"maps"

	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/invites"
)

// startMethodSession opens a session for a member who proved who they are by
// method (a passkey or single sign-on), never by a password: deactivated or
// unfinished members get ErrInvalidCredentials, and so does a locked member
// when the practice's lockout policy blocks method (LockBlocks). Password
// attempt counters are never consulted or changed. details (which must hold
// no secret) are added to the audit event; amr goes into the session.
func (s *Service) startMethodSession(ctx context.Context, p store.Practice, memberID, method string, amr []string,
	details map[string]string, meta Meta) (Principal, string, error) {
	fail := func(reason, subject string) (Principal, string, error) {
		s.metrics.failures.WithLabelValues(reason).Inc()
		d := map[string]string{"reason": reason, "method": method}
		maps.Copy(d, details)
		s.auditBestEffort(ctx, store.AuditEvent{PracticeID: p.ID, Action: "login", Outcome: "failure",
			SubjectID: subject, Details: d}, meta)
		return Principal{}, "", ErrInvalidCredentials
	}
	m, err := s.d.Store.MemberByID(ctx, p.ID, memberID)
	if errors.Is(err, store.ErrNotFound) {
		return fail("unknown_account", "")
	}
	if err != nil {
		return Principal{}, "", fmt.Errorf("account: %s login: %w", method, err)
	}
	switch {
	case m.Status == store.StatusLocked && s.locks.LockBlocks(ctx, p.Lockout(), m.Lockout(), method):
		return fail("locked", m.ID)
	case m.Status != store.StatusActive && m.Status != store.StatusLocked:
		return fail("inactive", m.ID)
	}
	pr, token, err := s.methodSession(ctx, p, m, method, amr, details, meta, nil)
	if errors.Is(err, errNotActive) {
		return fail("locked", m.ID)
	}
	if err != nil {
		return Principal{}, "", err
	}
	s.metrics.logins.Inc()
	return pr, token, nil
}

// methodSession creates the session row and its audit event in one
// transaction, re-checking the member under its row lock (locked meanwhile
// under a policy that blocks method, or deactivated: errNotActive). before,
// when not nil, runs first in the same transaction.
func (s *Service) methodSession(ctx context.Context, p store.Practice, m store.Member, method string, amr []string,
	details map[string]string, meta Meta, before func(tx *store.Store) error) (Principal, string, error) {
	token, hash, err := invites.NewToken(s.d.Random)
	if err != nil {
		return Principal{}, "", fmt.Errorf("account: session token: %w", err)
	}
	now := s.d.Now()
	sess := store.Session{ID: s.d.NewID(), PracticeID: p.ID, MemberID: m.ID, AMR: amr,
		AuthTime: now, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(s.set.AbsoluteLifetime)}
	d := map[string]string{"method": method, "session": sess.ID}
	maps.Copy(d, details)
	err = s.d.Store.InTx(ctx, func(tx *store.Store) error {
		if before != nil {
			if err := before(tx); err != nil {
				return err
			}
		}
		allowLocked := !s.locks.Policy(ctx, p.Lockout()).BlocksMethod(method)
		if err := tx.RequireLoginableMember(ctx, m.ID, allowLocked); errors.Is(err, store.ErrNotFound) {
			return errNotActive
		} else if err != nil {
			return err
		}
		if err := tx.CreateSession(ctx, sess, hash); err != nil {
			return err
		}
		return s.audit(ctx, tx, store.AuditEvent{PracticeID: p.ID, Action: "login", Outcome: "success",
			ActorID: m.ID, SubjectID: m.ID, Details: d}, meta)
	})
	if err != nil {
		if errors.Is(err, errNotActive) {
			return Principal{}, "", err
		}
		return Principal{}, "", fmt.Errorf("account: start %s session: %w", method, err)
	}
	return Principal{Session: sess, Member: m, Practice: p}, token, nil
}
