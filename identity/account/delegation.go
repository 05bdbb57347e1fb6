package account

import (
	"context"
	"errors"

	"github.com/frontdeskhq/frontdesk/identity/problem"
	"github.com/frontdeskhq/frontdesk/identity/roles"
	"github.com/frontdeskhq/frontdesk/identity/store"
)

// MayGrantRoles reports nil when the actor may give someone the roles keys
// of the practice, and otherwise ErrForbidden whose public text names the
// role in words ("You can't give the Practice Biller role; ask the practice
// owner."). It is a thin call into the one delegation model,
// roles.Service.MayGive ("who staffs whom"); the operator always may.
// Every path outside the role service that ends with someone holding a role
// — invitations and resent invitations, a single sign-on provider's join
// role, approving a join request — calls it.
func (s *Service) MayGrantRoles(ctx context.Context, p store.Practice, a Actor, keys []string) error {
	if a.Operator {
		return nil
	}
	if a.MemberID == "" {
		return ErrForbidden.Sayf("You can't give roles; sign in as a member of the practice.")
	}
	if s.d.Roles == nil {
		return ErrForbidden.Withf("giving roles needs the role model")
	}
	err := s.d.Roles.MayGive(ctx, roles.Actor{PracticeID: p.ID, MemberID: a.MemberID}, keys)
	if errors.Is(err, roles.ErrForbidden) {
		return ErrForbidden.Wrap(err)
	}
	if errors.Is(err, roles.ErrConstraint) {
		reason := "not a role of this practice"
		if pe, ok := problem.As(err); ok && pe.Reason != "" {
			reason = pe.Reason
		}
		return &InvalidInputError{Field: "role", Reason: reason}
	}
	return err
}

// GrantableRoles lists the keys of the practice's roles the actor may give
// (roles.Service.GivableRoles), in the practice's display order, for forms
// that offer only those.
func (s *Service) GrantableRoles(ctx context.Context, p store.Practice, a Actor) ([]string, error) {
	if s.d.Roles == nil || !a.Operator && a.MemberID == "" {
		return nil, nil
	}
	ra := roles.Actor{PracticeID: p.ID, MemberID: a.MemberID}
	if a.Operator {
		ra.MemberID = ""
	}
	list, err := s.d.Roles.GivableRoles(ctx, ra)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(list))
	for _, r := range list {
		out = append(out, r.Key)
	}
	return out, nil
}

// MayStaff reports nil when the actor may take away what member m may do
// (deactivate them, revoke their passkeys): the actor may give every role m
// holds, as changing m's roles requires (roles.Service's staff rule), so an
// administrator cannot remove or lock out an owner. The operator always
// may. action words the refusal ("deactivate", "revoke the passkeys of").
func (s *Service) MayStaff(ctx context.Context, p store.Practice, a Actor, m store.Member, action string) error {
	if a.Operator || s.d.Roles == nil || len(m.Roles) == 0 {
		return nil
	}
	err := s.MayGrantRoles(ctx, p, a, m.Roles)
	if errors.Is(err, ErrForbidden) {
		who := m.DisplayName
		if who == "" {
			who = m.Email
		}
		return ErrForbidden.Wrap(err).Sayf("You can't %s %s, who holds a role you can't give; ask the practice owner.", action, who)
	}
	return err
}
