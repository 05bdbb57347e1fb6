package roles

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/store"
)

// Delegation — "who staffs whom" — is decided here and nowhere else. Every
// path that ends with a person holding a role or a permission asks this file:
//
//   - a role is given only by a member holding a role whose Gives lists it
//     (the owner role gives every role), or by the operator (audited);
//   - no ladder: a role is given only when every role its holders may give is
//     one the giver may give too (checkDelegation keeps stored definitions
//     that way; giveRoles checks it again at every gift);
//   - a permission on its own (an override, a member option, emergency
//     access, a toggle, a role's definition) is given only when a role the
//     giver may give already includes it (givablePermissions);
//   - a member is changed (roles, overrides, supervision, reactivation) only
//     by someone who may give every role the member holds, so an
//     administrator cannot demote, strip or narrow an owner.
//
// The giver does not need to hold what they give: a Practice Administrator
// staffs Clinicians without clinical access of their own. docs/roles.md
// states the invariants and the tables per preset (go generate).

// checkDelegation fills the owner role's Gives with every role of defs and
// checks the delegation invariants of a whole set: Gives names roles of the
// set, only the owner role gives the owner role, and no role gives a role
// whose holders may give more than it (no ladder).
func checkDelegation(defs []Role) error {
	keys := make([]string, 0, len(defs))
	for _, r := range defs {
		keys = append(keys, r.Key)
	}
	slices.Sort(keys)
	for i := range defs {
		if defs[i].Key == OwnerRole {
			defs[i].Gives = slices.Clone(keys)
		}
	}
	byKey := index(defs)
	for _, g := range defs {
		if g.Key == OwnerRole {
			continue
		}
		for _, k := range g.Gives {
			r, ok := byKey[k]
			switch {
			case !ok:
				return ErrInvalidRole.Withf("%s gives role %q, which the practice does not define", g.Name, k)
			case k == OwnerRole:
				return ErrInvalidRole.Withf("only owners give the %s role; take it out of what %s gives", r.Name, g.Name)
			}
			for _, kk := range r.Gives {
				if !slices.Contains(g.Gives, kk) {
					return ErrInvalidRole.Withf("%s gives %s, whose holders may give %s, which %s does not give: "+
						"let %s give it too, or take %s out of what %s gives", g.Name, r.Name, nameOf(byKey, kk), g.Name,
						g.Name, r.Name, g.Name)
				}
			}
		}
	}
	return nil
}

// givable lists the role keys a member holding held may give: every role
// when they hold the owner role, otherwise the union of what their roles
// give.
func givable(defs []Role, held []string) []string {
	var out []string
	for _, r := range defs {
		if !slices.Contains(held, r.Key) {
			continue
		}
		if r.Key == OwnerRole {
			out = out[:0]
			for _, d := range defs {
				out = append(out, d.Key)
			}
			break
		}
		out = append(out, r.Gives...)
	}
	return sortedSet(out)
}

// giver is one person's power to give in a practice's model.
type giver struct {
	operator bool
	held     []string // the giver's roles
	roles    []string // the role keys they may give
	perms    []string // the permissions some role they may give includes (toggles applied)
}

// giverOf works out what a giver may give under m: the operator everything,
// a member what their held roles give.
func giverOf(m model, operator bool, held []string) giver {
	g := giver{operator: operator, held: sortedSet(held)}
	if operator {
		for _, r := range m.defs {
			g.roles = append(g.roles, r.Key)
		}
		g.roles = sortedSet(g.roles)
		g.perms = everything()
		return g
	}
	g.roles = givable(m.defs, held)
	var union []string
	for _, k := range g.roles {
		union = append(union, m.compute(memberData{held: []string{k}}, nil, time.Time{}).Permissions...)
	}
	g.perms = reduce(union)
	return g
}

// giveRoles refuses, naming the role in words, unless the giver may give
// every role of keys: each is one they may give, and each role's holders
// may give nothing the giver may not (no ladder).
func (g giver) giveRoles(m model, keys []string) error {
	if g.operator {
		return nil
	}
	byKey := index(m.defs)
	for _, k := range sortedSet(keys) {
		r, ok := byKey[k]
		if !ok {
			return ErrConstraint.Withf("the practice has no role %q", k)
		}
		if !slices.Contains(g.roles, k) {
			return cannotGive(r)
		}
		for _, kk := range givable(m.defs, []string{k}) {
			if !slices.Contains(g.roles, kk) {
				return cannotGive(r)
			}
		}
	}
	return nil
}

// givePermissions refuses, naming the first permission in words, unless
// some role the giver may give includes every permission of perms.
func (g giver) givePermissions(perms []string) error {
	for _, p := range perms {
		if !Allows(g.perms, p) {
			return ErrForbidden.Sayf("You can't give %s: none of the roles you may give includes it. Ask the practice owner.",
				PermissionWords(p))
		}
	}
	return nil
}

// staff refuses unless the giver may give every role the member holds
// (before and after a change): only then may they change what the member
// may do.
func (g giver) staff(m model, held ...[]string) error {
	for _, h := range held {
		if err := g.giveRoles(m, h); err != nil {
			return err
		}
	}
	return nil
}

func cannotGive(r Role) error {
	if r.Key == OwnerRole {
		return ErrForbidden.Sayf("You can't give the %s role; only an owner can.", r.Name)
	}
	return ErrForbidden.Sayf("You can't give the %s role; ask the practice owner.", r.Name)
}

// giverFor loads what a (member or operator) actor may give under m, reading
// through st (the caller's transaction or the store). An actor who is not an
// active member of the practice may give nothing.
func (s *Service) giverFor(ctx context.Context, st *store.Store, m model, a Actor) (giver, error) {
	if a.MemberID == "" {
		return giverOf(m, true, nil), nil
	}
	mem, err := st.MemberByID(ctx, a.PracticeID, a.MemberID)
	if errors.Is(err, store.ErrNotFound) || err == nil && mem.Status != store.StatusActive {
		return giver{}, ErrForbidden.Sayf("You can't give roles: you are not an active member of this practice.")
	}
	if err != nil {
		return giver{}, fmt.Errorf("roles: %w", err)
	}
	return giverOf(m, false, mem.Roles), nil
}

// MayGive is the one decision on giving roles: it answers nil when the actor
// (a member of the practice; an empty MemberID is the operator, who may give
// every role) may give someone every role of roleKeys, and otherwise an
// ErrForbidden whose public text names the first role refused in words
// ("You can't give the Practice Biller role; ask the practice owner."). Roles
// the practice does not define get ErrConstraint. Invitations, resent
// invitations, SSO join roles and join approvals call it (through
// account.Service.MayGrantRoles); role changes inside this package use the
// same giver.
func (s *Service) MayGive(ctx context.Context, a Actor, roleKeys []string) error {
	m, err := loadModel(ctx, s.d.Store, a.PracticeID)
	if err != nil {
		return err
	}
	g, err := s.giverFor(ctx, s.d.Store, m, a)
	if err != nil {
		return err
	}
	return g.giveRoles(m, roleKeys)
}

// GivableRoles lists, in the practice's display order, the roles the actor
// may give (MayGive answers nil for each): what forms offer as checkboxes.
func (s *Service) GivableRoles(ctx context.Context, a Actor) ([]Role, error) {
	m, err := loadModel(ctx, s.d.Store, a.PracticeID)
	if err != nil {
		return nil, err
	}
	g, err := s.giverFor(ctx, s.d.Store, m, a)
	if errors.Is(err, ErrForbidden) {
		return []Role{}, nil
	}
	if err != nil {
		return nil, err
	}
	out := []Role{}
	for _, r := range m.defs {
		if g.giveRoles(m, []string{r.Key}) == nil {
			out = append(out, r)
		}
	}
	return out, nil
}

// MayGivePermissions answers nil when some role the actor may give includes
// every permission of perms, else ErrForbidden naming the first in words.
func (s *Service) MayGivePermissions(ctx context.Context, a Actor, perms []string) error {
	m, err := loadModel(ctx, s.d.Store, a.PracticeID)
	if err != nil {
		return err
	}
	g, err := s.giverFor(ctx, s.d.Store, m, a)
	if err != nil {
		return err
	}
	return g.givePermissions(perms)
}

// defaultGives is what a role stored before delegation existed gives: what
// the practice preset's role of the same key gives, limited to roles the
// practice still defines; nothing for a role the preset does not have.
func defaultGives(p Preset, defs []Role) map[string][]string {
	have := map[string]bool{}
	for _, d := range defs {
		have[d.Key] = true
	}
	out := map[string][]string{}
	for _, d := range defs {
		var g []string
		if r, ok := p.Role(d.Key); ok {
			for _, k := range r.Gives {
				if have[k] && k != OwnerRole {
					g = append(g, k)
				}
			}
		}
		out[d.Key] = sortedSet(g)
	}
	return out
}
