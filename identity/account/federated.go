package account

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/templates"
)

// MethodFederated is the amr value (RFC 8176) of a login through the
// practice's upstream OpenID provider (single sign-on).
const MethodFederated = "fed"

// StartFederatedSession starts a session with amr ["fed"] for a member whose
// upstream identity the caller (package sso) has already verified and
// resolved through an explicit link. It mirrors StartPasskeySession:
// deactivated or unfinished members get ErrInvalidCredentials, and so does a
// locked member when the practice's lockout policy blocks every method
// (lockout.blocks: all). Password attempt counters are never consulted.
// details (no secrets) are added to the audit event.
func (s *Service) StartFederatedSession(ctx context.Context, p store.Practice, memberID string,
	details map[string]string, meta Meta) (Principal, string, error) {
	return s.startMethodSession(ctx, p, memberID, MethodFederated, []string{MethodFederated}, details, meta)
}

// InvitationCheck inspects an invitation (its email) before it is consumed;
// returning an error refuses the acceptance and leaves the invitation usable.
type InvitationCheck func(invitationEmail string) error

// InvitationLink runs inside the accepting transaction, after the member was
// activated: package sso creates the upstream identity link there, so the
// invitation is consumed if and only if the link is made.
type InvitationLink func(ctx context.Context, tx *store.Store, m store.Member) error

// AcceptInvitationFederated redeems an invitation through single sign-on.
// tokenHash is the SHA-256 of the invitation token (package sso keeps only
// the hash while the person is at the upstream provider). check decides
// whether the upstream identity may take this invitation (email rule); link
// creates the identity link. One transaction consumes the invitation,
// activates the member without a password, creates the link, audits and
// queues the inviter's notice; the new session has amr ["fed"]. Of two
// concurrent acceptances exactly one succeeds (the other gets
// ErrLinkInvalid).
func (s *Service) AcceptInvitationFederated(ctx context.Context, practiceSlug string, tokenHash []byte,
	check InvitationCheck, link InvitationLink, details map[string]string, meta Meta) (Accepted, error) {
	p, err := s.Practice(ctx, practiceSlug)
	if err != nil {
		return Accepted{}, err
	}
	inv, err := s.d.Store.InvitationByTokenHash(ctx, tokenHash)
	if errors.Is(err, store.ErrNotFound) {
		return Accepted{}, ErrLinkInvalid
	}
	if err != nil {
		return Accepted{}, fmt.Errorf("account: invitation: %w", err)
	}
	if inv.PracticeID != p.ID || !inv.Usable(s.d.Now()) {
		return Accepted{}, ErrLinkInvalid
	}
	m, err := s.d.Store.MemberByID(ctx, p.ID, inv.MemberID)
	if err != nil {
		return Accepted{}, fmt.Errorf("account: invitation member: %w", err)
	}
	if m.Status != store.StatusInvited || store.EmailKey(m.Email) != store.EmailKey(inv.Email) {
		return Accepted{}, ErrLinkInvalid
	}
	if err := check(inv.Email); err != nil {
		return Accepted{}, err
	}
	now := s.d.Now()
	d := map[string]string{"invitation": inv.ID, "method": MethodFederated}
	maps.Copy(d, details)
	accept := func(tx *store.Store) error {
		if err := tx.AcceptInvitation(ctx, inv.ID, tokenHash, now); err != nil {
			return err
		}
		cur, err := tx.MemberByID(ctx, p.ID, m.ID)
		if err != nil {
			return err
		}
		if cur.Status != store.StatusInvited {
			return store.ErrLinkUnusable
		}
		if err := tx.SetMemberStatus(ctx, m.ID, store.StatusActive, now); err != nil {
			return err
		}
		if _, err := tx.VoidMemberLinks(ctx, m.ID, now); err != nil {
			return err
		}
		if err := link(ctx, tx, cur); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, store.AuditEvent{PracticeID: p.ID, Action: "invitation.accept", Outcome: "success",
			ActorID: m.ID, SubjectID: m.ID, Details: d}, meta); err != nil {
			return err
		}
		if inv.InvitedBy == OperatorActorID {
			return nil
		}
		inviter, err := tx.MemberByID(ctx, p.ID, inv.InvitedBy)
		if err != nil || inviter.Status != store.StatusActive {
			return nil // the inviter left meanwhile: nobody to tell
		}
		return s.enqueue(ctx, tx, p, "invitation_accepted", inv.ID+"-accepted", inviter.Email,
			templates.AcceptedMail{PracticeName: p.Name, MemberEmail: m.Email, AcceptedAt: formatTime(now)})
	}
	pr, token, err := s.methodSession(ctx, p, m, MethodFederated, []string{MethodFederated}, details, meta, accept)
	if errors.Is(err, store.ErrLinkUnusable) || errors.Is(err, errNotActive) {
		return Accepted{}, ErrLinkInvalid
	}
	if err != nil {
		return Accepted{}, err
	}
	s.queued()
	s.metrics.logins.Inc()
	if cur, err := s.d.Store.MemberByID(ctx, p.ID, m.ID); err == nil {
		pr.Member = cur
	}
	return Accepted{Principal: pr, SessionToken: token, LandingURL: s.set.AppURLs[inv.App]}, nil
}

// RequireRecentLogin reports ErrReauthRequired when the session's login is
// older than window: linking a new way to log in needs a fresh login.
func (s *Service) RequireRecentLogin(pr Principal, window time.Duration) error {
	if s.d.Now().Sub(pr.Session.AuthTime) > window {
		return ErrReauthRequired
	}
	return nil
}
