package account

import (
	"context"
	"fmt"
	"strings"

	"github.com/frontdeskhq/frontdesk/identity/roles"
	"github.com/frontdeskhq/frontdesk/identity/store"
)

// This file holds the interim rule of who may give which role (F1):
// invitations, single sign-on join roles and join approvals all ask it.

// holdsGrant is the rule "nobody grants a permission they do not hold" for
// giving someone the roles keys: the actor (whose permissions are actor)
// must hold every permission the roles give under the practice's model,
// toggles included. The operator may give any role.
func holdsGrant(a Actor, actor []string, model roles.Model, keys []string) error {
	if a.Operator {
		return nil
	}
	granted := roles.Compute(roles.Input{Defs: model.Roles, Held: keys, Toggles: model.Toggles, ToggleOn: model.ToggleOn})
	what := "the role " + strings.Join(keys, "")
	if len(keys) > 1 {
		what = "the roles " + strings.Join(keys, ", ")
	}
	for _, perm := range granted.Permissions {
		if !roles.Allows(actor, perm) {
			return ErrForbidden.Withf("you cannot give %s: it grants %s, which you do not hold", what, perm)
		}
	}
	return nil
}

// MayGrantRoles reports ErrForbidden unless the actor may give someone the
// roles keys of the practice: an active member must hold every permission
// the roles grant (holdsGrant, the check invitations use); the operator
// always may. Paths outside this package that end with someone holding a
// role — a single sign-on provider's join role, approving a join request —
// call it, so they follow the same rule as invitations and role assignment.
func (s *Service) MayGrantRoles(ctx context.Context, p store.Practice, a Actor, keys []string) error {
	if a.Operator {
		return nil
	}
	if s.d.Roles == nil {
		return ErrForbidden.Withf("giving roles needs the role model")
	}
	actor, err := s.actorPermissions(ctx, p, a)
	if err != nil {
		return err
	}
	model, err := s.d.Roles.Model(ctx, p.ID)
	if err != nil {
		return fmt.Errorf("account: role model: %w", err)
	}
	return holdsGrant(a, actor, model, keys)
}

// GrantableRoles lists the keys of the practice's roles the actor may give
// (MayGrantRoles for each), for forms that offer only those.
func (s *Service) GrantableRoles(ctx context.Context, p store.Practice, a Actor) ([]string, error) {
	if s.d.Roles == nil {
		return nil, nil
	}
	var actor []string
	if !a.Operator {
		var err error
		if actor, err = s.actorPermissions(ctx, p, a); err != nil {
			return nil, err
		}
	}
	model, err := s.d.Roles.Model(ctx, p.ID)
	if err != nil {
		return nil, fmt.Errorf("account: role model: %w", err)
	}
	var out []string
	for _, r := range model.Roles {
		if holdsGrant(a, actor, model, []string{r.Key}) == nil {
			out = append(out, r.Key)
		}
	}
	return out, nil
}
