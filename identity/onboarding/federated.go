package onboarding

import (
	"context"
	"errors"
	"fmt"
	"maps"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/store"
)

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
// account.ErrLinkInvalid).
func (s *Service) AcceptInvitationFederated(ctx context.Context, practiceSlug string, tokenHash []byte,
	check InvitationCheck, link InvitationLink, details map[string]string, meta account.Meta) (Accepted, error) {
	p, err := s.acc.Practice(ctx, practiceSlug)
	if err != nil {
		return Accepted{}, err
	}
	inv, err := s.d.Store.InvitationByTokenHash(ctx, tokenHash)
	if errors.Is(err, store.ErrNotFound) {
		return Accepted{}, account.ErrLinkInvalid
	}
	if err != nil {
		return Accepted{}, fmt.Errorf("onboarding: invitation: %w", err)
	}
	if inv.PracticeID != p.ID || !inv.Usable(s.d.Now()) {
		return Accepted{}, account.ErrLinkInvalid
	}
	m, err := s.d.Store.MemberByID(ctx, p.ID, inv.MemberID)
	if err != nil {
		return Accepted{}, fmt.Errorf("onboarding: invitation member: %w", err)
	}
	if m.Status != store.StatusInvited || store.EmailKey(m.Email) != store.EmailKey(inv.Email) {
		return Accepted{}, account.ErrLinkInvalid
	}
	if err := check(inv.Email); err != nil {
		return Accepted{}, err
	}
	now := s.d.Now()
	d := map[string]string{"invitation": inv.ID, "method": account.MethodFederated}
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
		return s.recordAcceptance(ctx, tx, p, inv, m, now, d, meta)
	}
	pr, token, err := s.acc.StartSessionAfter(ctx, p, m, account.MethodFederated, []string{account.MethodFederated}, details, meta, accept)
	if errors.Is(err, store.ErrLinkUnusable) || errors.Is(err, account.ErrNotActive) {
		return Accepted{}, account.ErrLinkInvalid
	}
	if err != nil {
		return Accepted{}, err
	}
	s.acc.Queued()
	if cur, err := s.d.Store.MemberByID(ctx, p.ID, m.ID); err == nil {
		pr.Member = cur
	}
	return Accepted{Principal: pr, SessionToken: token, LandingURL: landing(s.acc, inv.App)}, nil
}
