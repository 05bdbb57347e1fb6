package onboarding

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/roles"
	"github.com/frontdeskhq/frontdesk/identity/store"
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
func (s *Service) IssueTemporaryPassword(ctx context.Context, practiceSlug string, a account.Actor, email string, meta account.Meta) (TemporaryIssued, error) {
	p, err := s.acc.Practice(ctx, practiceSlug)
	if err != nil {
		return TemporaryIssued{}, err
	}
	addr, err := account.ParseEmail(email)
	if err != nil {
		return TemporaryIssued{}, err
	}
	if _, err := s.acc.Require(ctx, p, a, roles.PermResetPasswords); err != nil {
		s.acc.RefuseAudit(ctx, p, a, "password.temporary", "", err, meta)
		return TemporaryIssued{}, err
	}
	m, err := s.d.Store.MemberByEmail(ctx, p.ID, addr)
	if errors.Is(err, store.ErrNotFound) {
		return TemporaryIssued{}, account.ErrMemberNotFound
	}
	if err != nil {
		return TemporaryIssued{}, fmt.Errorf("onboarding: temporary password: %w", err)
	}
	switch m.Status {
	case store.StatusDeactivated:
		return TemporaryIssued{}, account.ErrMemberNotFound
	case store.StatusInvited:
		// A practice that onboards by temporary password (seed 004) gives
		// invited members access this way; the others send invitations.
		byTemp, err := s.acc.OnboardsByTemporaryPassword(ctx, p.Slug)
		if err != nil {
			return TemporaryIssued{}, err
		}
		if !byTemp {
			return TemporaryIssued{}, &account.InvalidInputError{Field: "email",
				Reason: "belongs to someone who has not accepted their invitation yet; resend the invitation instead"}
		}
	case store.StatusLocked:
		return TemporaryIssued{}, &account.InvalidInputError{Field: "email",
			Reason: "belongs to a locked account; unlock it first (frontdesk admin unlock), then issue the temporary password"}
	}
	var tp store.TemporaryPassword
	err = s.d.Store.InTx(ctx, func(tx *store.Store) error {
		var err error
		tp, err = s.issueTemporary(ctx, tx, p, a, m, meta)
		return err
	})
	if err != nil {
		return TemporaryIssued{}, fmt.Errorf("onboarding: temporary password: %w", err)
	}
	s.acc.Queued()
	return TemporaryIssued{MemberID: m.ID, Email: m.Email, ExpiresAt: tp.ExpiresAt}, nil
}

// issueTemporary issues member m a temporary password inside tx: stores its
// digest, queues the mail and audits it. For an invited member (onboarding
// by temporary password) the mail says their access was created and names
// their roles.
func (s *Service) issueTemporary(ctx context.Context, tx *store.Store, p store.Practice, a account.Actor, m store.Member,
	meta account.Meta) (store.TemporaryPassword, error) {
	pw, err := s.randomPassword(p, m)
	if err != nil {
		return store.TemporaryPassword{}, err
	}
	hash := account.TemporaryDigest(pw) // high entropy: no slow hash needed (tempdigest.go)
	now := s.d.Now()
	tp := store.TemporaryPassword{ID: s.d.NewID(), PracticeID: p.ID, MemberID: m.ID, PasswordHash: hash,
		IssuedBy: a.ID(), CreatedAt: now, ExpiresAt: now.Add(s.set.TemporaryPasswordTTL)}
	loginURL := s.acc.Link("/p/"+p.Slug+"/login", nil)
	if err := tx.CreateTemporaryPassword(ctx, tp); err != nil {
		return tp, err
	}
	data := templates.TemporaryPasswordMail{PracticeName: p.Name,
		RecipientName: account.GivenName(m), ActorName: s.acc.PersonLabel(ctx, tx, p, a.ID()),
		Password: pw, Expires: account.FormatTimeIn(tp.ExpiresAt, p), LoginURL: loginURL, Email: m.Email}
	details := map[string]string{"expires_at": tp.ExpiresAt.Format(time.RFC3339)}
	if m.Status == store.StatusInvited {
		data.NewAccess, data.RoleNames = true, s.acc.RoleNames(ctx, p, m.Roles)
		details["onboarding"] = "temporary_password"
	}
	if err := s.acc.Enqueue(ctx, tx, p, "temporary_password", tp.ID, m.Email, data, loginURL); err != nil {
		return tp, err
	}
	return tp, s.acc.Audit(ctx, tx, store.AuditEvent{PracticeID: p.ID, Action: "password.temporary", Outcome: "success",
		ActorID: a.ID(), SubjectID: m.ID, Details: details}, meta)
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
	return "", errors.New("onboarding: could not draw a temporary password that meets the policy")
}

// randomChars fills b with characters of alphabet drawn uniformly from
// random (rejection sampling, no modulo bias).
func randomChars(random io.Reader, b []byte, alphabet string) error {
	limit := 256 - 256%len(alphabet)
	var buf [64]byte
	for i := 0; i < len(b); {
		if _, err := io.ReadFull(random, buf[:]); err != nil {
			return fmt.Errorf("onboarding: randomness: %w", err)
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
