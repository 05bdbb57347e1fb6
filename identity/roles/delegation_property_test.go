package roles_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/problem"
	"github.com/frontdeskhq/frontdesk/identity/roles"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
)

// seedStaffs is who staffs whom per preset, as docs/roles.md states it from
// the seeds (000 Practice Administrator; 001 Main Admin and Office Staff
// Admin, and the Clinical Director; 002 only owners; 003 Administrator; 004
// Office Staff, effective with the Manager Module tab). "*" is every role;
// a role not listed gives nothing.
var seedStaffs = map[string]map[string][]string{
	"therapynotes": {"owner": {"*"},
		"practice_admin": {"biller", "biller_assigned", "clinical_admin", "clinician", "practice_admin", "scheduler", "supervisor"}},
	"aba":      {"owner": {"*"}, "osa": {"acd", "bt", "cd", "l1", "l2", "l2_5", "os"}, "cd": {"acd", "bt", "l1", "l2", "l2_5"}},
	"zencare":  {"owner": {"*"}},
	"sessions": {"owner": {"*"}, "administrator": {"administrator", "biller", "forms_admin", "practitioner", "scheduler", "supervisor"}},
	"manager-module": {"owner": {"*"}, "office_staff": {"office_staff", "provider_edit_all", "provider_edit_own",
		"provider_schedule_own", "provider_view_all"}},
}

// seedGives is what a member holding held may give under seedStaffs.
func seedGives(p roles.Preset, held []string) []string {
	var out []string
	for _, h := range held {
		for _, k := range seedStaffs[p.Key][h] {
			if k == "*" {
				for _, r := range p.Roles {
					out = append(out, r.Key)
				}
				continue
			}
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// permsOfRoles is the union of what each of keys grants on its own, toggles
// at their defaults: what a giver of keys may give as single permissions.
func permsOfRoles(p roles.Preset, keys []string) []string {
	var out []string
	for _, k := range keys {
		out = append(out, roles.Compute(roles.Input{Defs: p.Roles, Held: []string{k}, Toggles: p.Toggles}).Permissions...)
	}
	return out
}

func subset(a, b []string) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

// broadest lists every catalogue permission at its broadest scope, and one
// named app's login.
func broadest() []string {
	var out []string
	for _, e := range roles.Catalogue() {
		switch {
		case e.Name == roles.AppLogin:
			out = append(out, "app."+roles.AppDataCollection+".login")
		case e.Scoped():
			out = append(out, e.Name+":all", e.Name+":assigned")
		default:
			out = append(out, e.Name)
		}
	}
	return out
}

// TestDelegationProperty tries every giving path of the role service — the
// decision itself (MayGive, which invitations, resent invitations, SSO join
// roles and join approvals call), assigning and unassigning roles,
// overrides, member options, emergency access, toggles, role definitions and
// reactivation — with a member holding each role of each preset (with the
// roles it requires), and checks the invariants of docs/roles.md on every
// outcome:
//
//   - the roles one may give are exactly the seed table's;
//   - no ladder: whoever gives a role may give every role its holders give;
//   - only owners give the owner role, and only owners change an owner;
//   - a permission given on its own is included in a role the giver may
//     give, and a refusal names a role or permission in words, never a
//     permission string.
func TestDelegationProperty(t *testing.T) {
	for _, preset := range roles.Presets() {
		t.Run(preset.Key, func(t *testing.T) {
			st := storetest.Open(t, store.SQLite)
			ctx := context.Background()
			f := newFixture(t, st, preset.Key)
			op := roles.Actor{PracticeID: f.pid}
			f.member(t, "creator", preset.OwnerRoles...)
			for _, r := range preset.Roles {
				held := append([]string{r.Key}, r.Requires...)
				actorID := "a-" + r.Key
				f.member(t, actorID, held...)
				if preset.Key == "manager-module" && r.Key == "office_staff" {
					// The Manager Module tab gives Office Staff user management.
					if err := f.svc.ApplyMemberOption(ctx, op, actorID, "tab_manager", true, roles.Meta{}); err != nil {
						t.Fatal(err)
					}
				}
				actor := f.actor(actorID)
				want := seedGives(preset, held)
				mine := f.perms(t, actorID).Permissions
				givablePerms := permsOfRoles(preset, want)
				isOwner := slices.Contains(held, roles.OwnerRole)
				n := 0
				fresh := func(held ...string) string {
					n++
					id := fmt.Sprintf("t-%s-%d", r.Key, n)
					f.member(t, id, held...)
					return id
				}
				checkWorded := func(what string, err error) {
					t.Helper()
					if err == nil || !errors.Is(err, roles.ErrForbidden) {
						return
					}
					p, _ := problem.As(err)
					for _, perm := range broadest() {
						if p != nil && strings.Contains(p.Public, perm) && !strings.Contains(p.Public, "this needs the") {
							t.Errorf("%s by %s: refusal %q shows a permission string", what, r.Key, p.Public)
						}
					}
				}
				for _, x := range preset.Roles {
					give := append([]string{x.Key}, x.Requires...)
					mayGive := subset(give, want)
					// The decision: exactly the seed table.
					err := f.svc.MayGive(ctx, actor, give)
					if (err == nil) != mayGive {
						t.Errorf("%s giving %v: MayGive = %v; the seed table says %v", r.Key, give, err, mayGive)
					}
					checkWorded("giving "+x.Key, err)
					if err == nil {
						// No ladder, owner only by owners.
						for _, k := range give {
							xr, _ := preset.Role(k)
							if !subset(xr.Gives, want) {
								t.Errorf("ladder: %s gave %s, whose holders give %v beyond %v", r.Key, k, xr.Gives, want)
							}
							if k == roles.OwnerRole && !isOwner {
								t.Errorf("%s, not an owner, gave the owner role", r.Key)
							}
						}
					}
					// Assigning, then unassigning.
					target := fresh()
					err = f.svc.SetMemberRoles(ctx, actor, target, give, roles.Meta{})
					checkWorded("assigning "+x.Key, err)
					if holdsAssign := roles.Allows(mine, roles.PermAssign); (err == nil) != (mayGive && holdsAssign) {
						t.Errorf("%s assigning %v: %v; want allowed = %v", r.Key, give, err, mayGive && holdsAssign)
					}
					if err == nil {
						if err := f.svc.SetMemberRoles(ctx, actor, target, nil, roles.Meta{}); err != nil {
							t.Errorf("%s unassigning %v it gave: %v", r.Key, give, err)
						}
					}
					// Reactivating someone holding x.
					gone := fresh(give...)
					err = st.InTx(ctx, func(tx *store.Store) error {
						if err := tx.SetMemberStatus(ctx, gone, store.StatusDeactivated, time.Time{}); err != nil {
							return err
						}
						return f.svc.CheckReactivation(ctx, tx, f.pid, actorID, gone)
					})
					if (err == nil) != mayGive {
						t.Errorf("%s reactivating a %v: %v; want allowed = %v", r.Key, give, err, mayGive)
					}
					// Redefining x: everything, and giving the owner role.
					big := x
					big.Permissions = broadest()
					err = f.svc.PutRole(ctx, actor, big, roles.Meta{})
					checkWorded("redefining "+x.Key, err)
					if err == nil {
						if !slices.Contains(want, x.Key) {
							t.Errorf("%s redefined %s, a role it does not give", r.Key, x.Key)
						}
						for _, perm := range broadest() {
							if !roles.Allows(givablePerms, perm) {
								t.Errorf("%s redefined %s to include %s, which no role it gives includes", r.Key, x.Key, perm)
							}
						}
						if err := f.svc.PutRole(ctx, op, x, roles.Meta{}); err != nil {
							t.Fatal(err)
						}
					}
					if x.Key != roles.OwnerRole {
						up := x
						up.Gives = []string{roles.OwnerRole}
						if err := f.svc.PutRole(ctx, actor, up, roles.Meta{}); !errors.Is(err, roles.ErrInvalidRole) && !errors.Is(err, roles.ErrForbidden) {
							t.Errorf("%s letting %s give the owner role: %v", r.Key, x.Key, err)
						}
					}
				}
				// An owner's roles are changed only by owners.
				other := fresh(preset.OwnerRoles...)
				err := f.svc.SetMemberRoles(ctx, actor, other, nil, roles.Meta{})
				if err == nil && !isOwner {
					t.Errorf("%s took an owner's roles away", r.Key)
				}
				err = f.svc.SetMemberOverrides(ctx, actor, other, []roles.Override{{Permission: roles.PermManageMembers}}, roles.Meta{})
				if err == nil && !isOwner {
					t.Errorf("%s narrowed an owner with an override", r.Key)
				}
				// Single permissions: overrides and emergency access.
				target := fresh()
				for _, perm := range broadest() {
					err := f.svc.SetMemberOverrides(ctx, actor, target, []roles.Override{{Permission: perm, Grant: true}}, roles.Meta{})
					checkWorded("overriding "+perm, err)
					if err == nil && !roles.Allows(givablePerms, perm) {
						t.Errorf("%s gave %s by override; no role it gives includes it", r.Key, perm)
					}
					if _, err := f.svc.GrantElevation(ctx, actor, target, []string{perm}, time.Hour,
						"emergency: covering a colleague", roles.Meta{}); err == nil && !roles.Allows(givablePerms, perm) {
						t.Errorf("%s gave %s as emergency access; no role it gives includes it", r.Key, perm)
					}
				}
				if err := f.svc.SetMemberOverrides(ctx, op, target, nil, roles.Meta{}); err != nil {
					t.Fatal(err)
				}
				for _, o := range preset.MemberOptions {
					err := f.svc.ApplyMemberOption(ctx, actor, target, o.Key, true, roles.Meta{})
					if err != nil {
						continue
					}
					for _, ov := range o.Overrides {
						if ov.Grant && !roles.Allows(givablePerms, ov.Permission) {
							t.Errorf("%s turned on option %s, which gives %s", r.Key, o.Key, ov.Permission)
						}
					}
					if err := f.svc.ApplyMemberOption(ctx, op, target, o.Key, false, roles.Meta{}); err != nil {
						t.Fatal(err)
					}
				}
				for _, tg := range preset.Toggles {
					err := f.svc.SetToggle(ctx, actor, tg.Key, !tg.Default, roles.Meta{})
					if err != nil {
						continue
					}
					if !subset(tg.Roles, want) {
						t.Errorf("%s switched %s, which changes roles it does not give", r.Key, tg.Key)
					}
					if err := f.svc.SetToggle(ctx, op, tg.Key, tg.Default, roles.Meta{}); err != nil {
						t.Fatal(err)
					}
				}
			}
		})
	}
}

// TestPresetDelegationIsSeedTable holds each preset's gives to seedStaffs
// and to the invariants, without a store.
func TestPresetDelegationIsSeedTable(t *testing.T) {
	for _, p := range roles.Presets() {
		if _, err := roles.CheckSet(p.Roles); err != nil {
			t.Errorf("%s: %v", p.Key, err)
		}
		for _, r := range p.Roles {
			if got, want := r.Gives, seedGives(p, []string{r.Key}); !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
				t.Errorf("%s: %s gives %v; the seed table says %v", p.Key, r.Key, got, want)
			}
		}
	}
}

// TestCheckSetRefusesLadders is the invariants as a table of broken sets.
func TestCheckSetRefusesLadders(t *testing.T) {
	perms := []string{"clients.view:all"}
	base := func(gives map[string][]string) []roles.Role {
		var out []roles.Role
		for _, k := range []string{"owner", "admin", "lead", "staff"} {
			out = append(out, roles.Role{Key: k, Name: strings.ToUpper(k[:1]) + k[1:], Permissions: perms, Gives: gives[k]})
		}
		return out
	}
	for _, tc := range []struct {
		name  string
		gives map[string][]string
		ok    bool
	}{
		{"flat", map[string][]string{"admin": {"staff", "lead"}}, true},
		{"admin gives itself", map[string][]string{"admin": {"admin", "staff"}}, true},
		{"chain closed", map[string][]string{"admin": {"lead", "staff"}, "lead": {"staff"}}, true},
		{"ladder", map[string][]string{"admin": {"lead"}, "lead": {"staff"}}, false},
		{"ladder through itself", map[string][]string{"lead": {"admin"}, "admin": {"staff"}}, false},
		{"admin gives owner", map[string][]string{"admin": {"owner"}}, false},
		{"unknown role", map[string][]string{"admin": {"wizard"}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defs, err := roles.CheckSet(base(tc.gives))
			if (err == nil) != tc.ok {
				t.Fatalf("CheckSet = %v; want ok = %v", err, tc.ok)
			}
			if err == nil {
				i := slices.IndexFunc(defs, func(r roles.Role) bool { return r.Key == roles.OwnerRole })
				if !slices.Equal(defs[i].Gives, []string{"admin", "lead", "owner", "staff"}) {
					t.Fatalf("owner gives %v; want every role", defs[i].Gives)
				}
			}
		})
	}
}
