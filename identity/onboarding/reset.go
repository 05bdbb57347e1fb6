package onboarding

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/invites"
	"github.com/frontdeskhq/frontdesk/templates"
)

// resetInterval is the least time between two reset links for one member, so
// the form cannot be used to flood a mailbox.
const resetInterval = time.Minute

// RequestPasswordReset handles "forgot password": when the address belongs to
// an active member of the practice, a single-use reset link (valid for the
// reset TTL, 1 hour by default) is queued for delivery and older reset links
// are voided. The answer is the same whether or not the address exists:
// only a malformed address or an unknown practice is an error.
//
// It does the work before returning, so its duration depends on whether the
// address belongs to a member: anything answering a network request calls
// QueuePasswordReset instead, which runs this on a background worker.
func (s *Service) RequestPasswordReset(ctx context.Context, practiceSlug, email string, meta account.Meta) error {
	p, err := s.acc.Practice(ctx, practiceSlug)
	if err != nil {
		return err
	}
	addr, err := account.ParseEmail(email)
	if err != nil {
		return err
	}
	m, err := s.d.Store.MemberByEmail(ctx, p.ID, addr)
	if errors.Is(err, store.ErrNotFound) {
		s.acc.AuditBestEffort(ctx, store.AuditEvent{PracticeID: p.ID, Action: "password.reset_request", Outcome: "failure",
			Details: map[string]string{"reason": "unknown_account"}}, meta)
		return nil
	}
	if err != nil {
		return fmt.Errorf("onboarding: reset: %w", err)
	}
	if m.Status != store.StatusActive || m.PasswordHash == "" {
		// Locked accounts are unlocked by an administrator, not by mail;
		// invited members accept their invitation.
		s.acc.AuditBestEffort(ctx, store.AuditEvent{PracticeID: p.ID, Action: "password.reset_request", Outcome: "failure",
			SubjectID: m.ID, Details: map[string]string{"reason": "status_" + string(m.Status)}}, meta)
		return nil
	}
	if has, err := s.hasPasskey(ctx, s.d.Store, p.ID, m.ID); err != nil {
		return err
	} else if has {
		// Access to the mailbox alone must not replace a passkey: the member
		// logs in with the passkey, or an administrator helps.
		s.acc.AuditBestEffort(ctx, store.AuditEvent{PracticeID: p.ID, Action: "password.reset_request", Outcome: "failure",
			SubjectID: m.ID, Details: map[string]string{"reason": "passkey_enrolled"}}, meta)
		return nil
	}
	now := s.d.Now()
	if last, err := s.d.Store.LatestLinkAt(ctx, m.ID, store.PurposeReset); err != nil {
		return fmt.Errorf("onboarding: reset: %w", err)
	} else if !last.IsZero() && now.Sub(last) < resetInterval {
		s.acc.AuditBestEffort(ctx, store.AuditEvent{PracticeID: p.ID, Action: "password.reset_request", Outcome: "failure",
			SubjectID: m.ID, Details: map[string]string{"reason": "too_soon"}}, meta)
		return nil
	}
	token, hash, err := invites.NewToken(s.d.Random)
	if err != nil {
		return fmt.Errorf("onboarding: %w", err)
	}
	l := store.Link{ID: s.d.NewID(), Purpose: store.PurposeReset, PracticeID: p.ID, MemberID: m.ID, Email: m.Email,
		CreatedAt: now, ExpiresAt: now.Add(s.set.ResetTTL)}
	link := s.acc.Link("/p/"+p.Slug+"/reset", url.Values{"token": {token}})
	err = s.d.Store.InTx(ctx, func(tx *store.Store) error {
		if err := tx.VoidLinks(ctx, m.ID, store.PurposeReset, now); err != nil {
			return err
		}
		if err := tx.CreateLink(ctx, l, hash); err != nil {
			return err
		}
		if err := s.acc.Enqueue(ctx, tx, p, "reset", l.ID, m.Email, templates.ResetMail{PracticeName: p.Name,
			RecipientName: account.GivenName(m), Link: link, Expires: account.FormatTimeIn(l.ExpiresAt, p),
			RequestedAt: account.FormatTimeIn(now, p),
		}, link); err != nil {
			return err
		}
		return s.acc.Audit(ctx, tx, store.AuditEvent{PracticeID: p.ID, Action: "password.reset_request", Outcome: "success",
			SubjectID: m.ID, Details: map[string]string{"link": l.ID, "expires_at": l.ExpiresAt.Format(time.RFC3339)}}, meta)
	})
	if err != nil {
		return fmt.Errorf("onboarding: reset: %w", err)
	}
	s.acc.Queued()
	return nil
}

// ResetView is what the reset page shows before anything is consumed.
type ResetView struct {
	Practice store.Practice
	Email    string
}

// OpenResetLink checks a reset link without consuming it.
func (s *Service) OpenResetLink(ctx context.Context, practiceSlug, token string) (ResetView, error) {
	p, _, m, err := s.checkLink(ctx, practiceSlug, token, store.PurposeReset)
	if err != nil {
		return ResetView{}, err
	}
	if has, err := s.hasPasskey(ctx, s.d.Store, p.ID, m.ID); err != nil {
		return ResetView{}, err
	} else if has {
		return ResetView{}, ErrPasskeyRequired
	}
	return ResetView{Practice: p, Email: m.Email}, nil
}

// checkLink finds a usable link of purpose for an active member of the
// practice.
func (s *Service) checkLink(ctx context.Context, practiceSlug, token string, purpose store.LinkPurpose) (store.Practice, store.Link, store.Member, error) {
	p, err := s.acc.Practice(ctx, practiceSlug)
	if err != nil {
		return store.Practice{}, store.Link{}, store.Member{}, err
	}
	if token == "" {
		return store.Practice{}, store.Link{}, store.Member{}, account.ErrLinkInvalid
	}
	l, err := s.d.Store.LinkByTokenHash(ctx, invites.HashToken(token))
	if errors.Is(err, store.ErrNotFound) {
		return store.Practice{}, store.Link{}, store.Member{}, account.ErrLinkInvalid
	}
	if err != nil {
		return store.Practice{}, store.Link{}, store.Member{}, fmt.Errorf("onboarding: link: %w", err)
	}
	if l.Purpose != purpose || l.PracticeID != p.ID || !l.ConsumedAt.IsZero() || !s.d.Now().Before(l.ExpiresAt) {
		return store.Practice{}, store.Link{}, store.Member{}, account.ErrLinkInvalid
	}
	m, err := s.d.Store.MemberByID(ctx, p.ID, l.MemberID)
	if err != nil {
		return store.Practice{}, store.Link{}, store.Member{}, fmt.Errorf("onboarding: link member: %w", err)
	}
	if m.Status != store.StatusActive {
		return store.Practice{}, store.Link{}, store.Member{}, account.ErrLinkInvalid
	}
	return p, l, m, nil
}

// CompleteReset redeems a reset link: the new password must meet the policy;
// one transaction consumes the link, stores the password, ends every session
// of the member and voids their temporary passwords. It starts no session:
// the person then logs in with the new password (OWASP: a reset never signs
// anyone in), so the login page — lockout, login policy, passkey — decides
// what they get. A lock is not lifted: a locked member's link is refused.
func (s *Service) CompleteReset(ctx context.Context, practiceSlug, token, newPw, confirm string, meta account.Meta) error {
	p, l, m, err := s.checkLink(ctx, practiceSlug, token, store.PurposeReset)
	if err != nil {
		return err
	}
	hash, err := s.acc.NewPasswordHash(ctx, p, m, newPw, confirm)
	if err != nil {
		return err
	}
	now := s.d.Now()
	err = s.d.Store.InTx(ctx, func(tx *store.Store) error {
		if err := tx.ConsumeLink(ctx, l.ID, now); err != nil {
			return err
		}
		if err := tx.RequireActiveMember(ctx, m.ID); errors.Is(err, store.ErrNotFound) {
			return store.ErrLinkUnusable
		} else if err != nil {
			return err
		}
		// A passkey enrolled after the link was sent still wins.
		if has, err := s.hasPasskey(ctx, tx, p.ID, m.ID); err != nil {
			return err
		} else if has {
			return ErrPasskeyRequired
		}
		if err := tx.SetPassword(ctx, m.ID, hash, now, false); err != nil {
			return err
		}
		ended, err := tx.EndMemberSessions(ctx, m.ID, "", now)
		if err != nil {
			return err
		}
		if _, err := tx.VoidTemporaryPasswords(ctx, m.ID, now); err != nil {
			return err
		}
		return s.acc.Audit(ctx, tx, store.AuditEvent{PracticeID: p.ID, Action: "password.set", Outcome: "success",
			ActorID: m.ID, SubjectID: m.ID, Details: map[string]string{"via": "reset_link", "sessions_ended": fmt.Sprint(ended)}}, meta)
	})
	if errors.Is(err, store.ErrLinkUnusable) {
		return account.ErrLinkInvalid
	}
	if err != nil {
		return fmt.Errorf("onboarding: reset: %w", err)
	}
	return nil
}

// ErrPasskeyRequired: the member has a passkey, so an emailed reset link
// cannot set a new password; they log in with the passkey, or an
// administrator issues a temporary password.
var ErrPasskeyRequired = errors.New("onboarding: the member logs in with a passkey; a reset link cannot replace it")

func (s *Service) hasPasskey(ctx context.Context, st *store.Store, practiceID, memberID string) (bool, error) {
	pks, err := st.MemberPasskeys(ctx, practiceID, memberID)
	if err != nil {
		return false, fmt.Errorf("onboarding: passkeys: %w", err)
	}
	return len(pks) > 0, nil
}
