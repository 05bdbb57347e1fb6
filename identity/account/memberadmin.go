package account

import (
	"context"
	"errors"
	"fmt"

	"github.com/frontdeskhq/frontdesk/identity/problem"
	"github.com/frontdeskhq/frontdesk/identity/roles"
	"github.com/frontdeskhq/frontdesk/identity/store"
)

// MaxDisplayNameRunes bounds a display name.
const MaxDisplayNameRunes = 200

// ErrNotDeactivated: only a deactivated member can be reactivated.
var ErrNotDeactivated = problem.New(problem.Conflict, "not_deactivated", "account: the member is not deactivated",
	"The member is not deactivated; there is nothing to reactivate.")

// ErrNoCredential: the member never set a password or passkey, so there is
// nothing to reactivate; invite them again instead.
var ErrNoCredential = problem.New(problem.Conflict, "no_credential",
	"account: the member has no password or passkey; invite them again",
	"The member never set a password or passkey; send them a new invitation instead.")

// SetDisplayName changes a member's display name (one line of plain text,
// see CheckText). The actor needs members.manage. The change is audited with
// the name before and after.
func (s *Service) SetDisplayName(ctx context.Context, practiceSlug string, a Actor, memberID, name string, meta Meta) (store.Member, error) {
	p, err := s.Practice(ctx, practiceSlug)
	if err != nil {
		return store.Member{}, err
	}
	if _, err := s.require(ctx, p, a, roles.PermManageMembers); err != nil {
		s.refuseAudit(ctx, p, a, "member.profile", memberID, err, meta)
		return store.Member{}, err
	}
	name, err = CheckText("display_name", name, MaxDisplayNameRunes)
	if err != nil {
		return store.Member{}, err
	}
	var m store.Member
	err = s.d.Store.InTx(ctx, func(tx *store.Store) error {
		var err error
		if m, err = tx.MemberByID(ctx, p.ID, memberID); errors.Is(err, store.ErrNotFound) {
			return ErrMemberNotFound
		} else if err != nil {
			return err
		}
		before := m.DisplayName
		if err := tx.SetMemberDisplayName(ctx, m.ID, name, s.d.Now()); err != nil {
			return err
		}
		return s.audit(ctx, tx, store.AuditEvent{PracticeID: p.ID, Action: "member.profile", Outcome: "success",
			ActorID: a.id(), SubjectID: m.ID, Details: map[string]string{"field": "display_name", "before": before, "after": name}}, meta)
	})
	if errors.Is(err, ErrMemberNotFound) {
		return store.Member{}, err
	}
	if err != nil {
		return store.Member{}, fmt.Errorf("account: set display name: %w", err)
	}
	return s.d.Store.MemberByID(ctx, p.ID, memberID)
}

// ReactivateMember gives a deactivated member their access back: they can
// log in again with the password or passkeys they had (sessions, links and
// temporary passwords voided at deactivation stay void). The actor needs
// members.manage and must be allowed to give every role the member holds
// (roles.Service.CheckReactivation, the delegation model). A member who never set a credential
// cannot be reactivated (ErrNoCredential): invite them again. The change is
// audited with the status before and after.
func (s *Service) ReactivateMember(ctx context.Context, practiceSlug string, a Actor, memberID string, meta Meta) (store.Member, error) {
	p, err := s.Practice(ctx, practiceSlug)
	if err != nil {
		return store.Member{}, err
	}
	if _, err := s.require(ctx, p, a, roles.PermManageMembers); err != nil {
		s.refuseAudit(ctx, p, a, "member.reactivate", memberID, err, meta)
		return store.Member{}, err
	}
	err = s.d.Store.InTx(ctx, func(tx *store.Store) error {
		if err := tx.LockPractice(ctx, p.ID); err != nil {
			return err
		}
		m, err := tx.MemberByID(ctx, p.ID, memberID)
		if errors.Is(err, store.ErrNotFound) {
			return ErrMemberNotFound
		} else if err != nil {
			return err
		}
		if m.Status != store.StatusDeactivated {
			return ErrNotDeactivated
		}
		if m.PasswordHash == "" {
			pks, err := tx.MemberPasskeys(ctx, p.ID, m.ID)
			if err != nil {
				return err
			}
			if len(pks) == 0 {
				return ErrNoCredential
			}
		}
		if err := tx.SetMemberStatus(ctx, m.ID, store.StatusActive, s.d.Now()); err != nil {
			return err
		}
		if s.d.Roles != nil && !a.Operator {
			if err := s.d.Roles.CheckReactivation(ctx, tx, p.ID, a.MemberID, m.ID); err != nil {
				return err
			}
		}
		return s.audit(ctx, tx, store.AuditEvent{PracticeID: p.ID, Action: "member.reactivate", Outcome: "success",
			ActorID: a.id(), SubjectID: m.ID, Details: map[string]string{"before": string(m.Status), "after": string(store.StatusActive)}}, meta)
	})
	switch {
	case errors.Is(err, roles.ErrForbidden):
		s.refuseAudit(ctx, p, a, "member.reactivate", memberID, err, meta)
		return store.Member{}, ErrForbidden.Wrap(err)
	case errors.Is(err, ErrMemberNotFound), errors.Is(err, ErrNotDeactivated), errors.Is(err, ErrNoCredential):
		return store.Member{}, err
	case err != nil:
		return store.Member{}, fmt.Errorf("account: reactivate: %w", err)
	}
	return s.d.Store.MemberByID(ctx, p.ID, memberID)
}
