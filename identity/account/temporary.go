package account

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/roles"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/invites"
	"github.com/frontdeskhq/frontdesk/lockout"
	"github.com/frontdeskhq/frontdesk/templates"
)

// temporaryAlphabet has no look-alike characters (0/O, 1/l/I), so a person
// can type the password from a printed email.
const temporaryAlphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// temporaryLength gives about 116 bits (20 × log2(56)) — far beyond guessing
// within its lifetime and the lockout threshold.
const temporaryLength = 20

// TemporaryIssued describes an issued temporary password. It never carries
// the password: only the member's mailbox does.
type TemporaryIssued struct {
	MemberID  string    `json:"member_id"`
	Email     string    `json:"email"`
	ExpiresAt time.Time `json:"expires_at"`
}

// IssueTemporaryPassword emails the member a random temporary password that
// meets the policy, expires (24 hours by default) and works once. The actor
// needs passwords.reset and never sees the password. Issuing a new one voids
// the old. Logging in with it leads only to choosing a new password.
func (s *Service) IssueTemporaryPassword(ctx context.Context, practiceSlug string, a Actor, email string, meta Meta) (TemporaryIssued, error) {
	p, err := s.Practice(ctx, practiceSlug)
	if err != nil {
		return TemporaryIssued{}, err
	}
	addr, err := ParseEmail(email)
	if err != nil {
		return TemporaryIssued{}, err
	}
	if _, err := s.require(ctx, p, a, roles.PermResetPasswords); err != nil {
		s.refuseAudit(ctx, p, a, "password.temporary", "", err, meta)
		return TemporaryIssued{}, err
	}
	m, err := s.d.Store.MemberByEmail(ctx, p.ID, addr)
	if errors.Is(err, store.ErrNotFound) {
		return TemporaryIssued{}, ErrMemberNotFound
	}
	if err != nil {
		return TemporaryIssued{}, fmt.Errorf("account: temporary password: %w", err)
	}
	switch m.Status {
	case store.StatusDeactivated:
		return TemporaryIssued{}, ErrMemberNotFound
	case store.StatusInvited:
		return TemporaryIssued{}, &InvalidInputError{Field: "email",
			Reason: "belongs to a member who has not accepted their invitation yet; resend the invitation instead"}
	case store.StatusLocked:
		return TemporaryIssued{}, &InvalidInputError{Field: "email",
			Reason: "belongs to a locked account; unlock it first (frontdesk admin unlock), then issue the temporary password"}
	}
	pw, err := s.randomPassword(p, m)
	if err != nil {
		return TemporaryIssued{}, err
	}
	hash := temporaryDigest(pw) // high entropy: no slow hash needed (tempdigest.go)
	now := s.d.Now()
	tp := store.TemporaryPassword{ID: s.d.NewID(), PracticeID: p.ID, MemberID: m.ID, PasswordHash: hash,
		IssuedBy: a.id(), CreatedAt: now, ExpiresAt: now.Add(s.set.TemporaryPasswordTTL)}
	loginURL := s.link("/p/"+p.Slug+"/login", nil)
	err = s.d.Store.InTx(ctx, func(tx *store.Store) error {
		if err := tx.CreateTemporaryPassword(ctx, tp); err != nil {
			return err
		}
		if err := s.enqueue(ctx, tx, p, "temporary_password", tp.ID, m.Email, templates.TemporaryPasswordMail{PracticeName: p.Name,
			Password: pw, Expires: formatTime(tp.ExpiresAt), LoginURL: loginURL, Email: m.Email,
		}, loginURL); err != nil {
			return err
		}
		return s.audit(ctx, tx, store.AuditEvent{PracticeID: p.ID, Action: "password.temporary", Outcome: "success",
			ActorID: a.id(), SubjectID: m.ID, Details: map[string]string{"expires_at": tp.ExpiresAt.Format(time.RFC3339)}}, meta)
	})
	if err != nil {
		return TemporaryIssued{}, fmt.Errorf("account: temporary password: %w", err)
	}
	s.queued()
	return TemporaryIssued{MemberID: m.ID, Email: m.Email, ExpiresAt: tp.ExpiresAt}, nil
}

func (s *Service) randomPassword(p store.Practice, m store.Member) (string, error) {
	for range 10 {
		b := make([]byte, temporaryLength)
		if err := randomChars(s.d.Random, b, temporaryAlphabet); err != nil {
			return "", err
		}
		pw := string(b)
		if s.d.Policy.Check(pw, p.Name, p.Slug, m.Email) == nil {
			return pw, nil
		}
	}
	return "", errors.New("account: could not draw a temporary password that meets the policy")
}

// randomChars fills b with characters of alphabet drawn uniformly from
// random (rejection sampling, no modulo bias).
func randomChars(random io.Reader, b []byte, alphabet string) error {
	limit := 256 - 256%len(alphabet)
	var buf [64]byte
	for i := 0; i < len(b); {
		if _, err := io.ReadFull(random, buf[:]); err != nil {
			return fmt.Errorf("account: randomness: %w", err)
		}
		for _, c := range buf {
			if int(c) < limit && i < len(b) {
				b[i] = alphabet[int(c)%len(alphabet)]
				i++
			}
		}
	}
	return nil
}

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
		if err := tx.RequireActiveMember(ctx, m.ID); err != nil {
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
