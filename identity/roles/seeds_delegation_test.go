package roles_test

import (
	"context"
	"errors"
	"testing"

	"github.com/frontdeskhq/frontdesk/identity/roles"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
)

// TestSeedAdministratorsStaffThePractice is issue 16's first finding as a
// class: each seed's administrator gives the roles the seed says they give,
// although they do not hold those roles' permissions (the rule "nobody grants
// a permission they do not hold" used to refuse them), and still cannot make
// anyone an owner. The practice's creator gives every role.
func TestSeedAdministratorsStaffThePractice(t *testing.T) {
	tests := []struct {
		preset   string
		admin    []string // the seed's administrator role(s)
		option   string   // a member option the owner gives the administrator first
		assign   []string // a role the seed lets that administrator assign
		citation string
	}{
		{"therapynotes", []string{"practice_admin"}, "", []string{"clinician"},
			// seed 000
			"A Practice Administrator has the ability to create and edit user accounts, assign their roles, and reset passwords for other users."},
		{"aba", []string{"owner"}, "", []string{"bt"},
			// seed 001: the Main Admin lacks the data-collection app, which BTs log in to.
			"Main Admin: -Access to every part of the system except the data collection app -Access to User Permission settings"},
		{"sessions", []string{"administrator"}, "", []string{"supervisor"},
			// seed 003
			"Administrators can do everything a Basic Member can do, but can additionally manage all other members of the organization"},
		{"manager-module", []string{"office_staff"}, "tab_manager", []string{"provider_edit_all"},
			// seed 004, the Manager Module tab given to an Office Staff user
			"Create user permissions, edit user permissions and reset passwords for existing users within this section."},
	}
	for _, tt := range tests {
		t.Run(tt.preset, func(t *testing.T) {
			st := storetest.Open(t, store.SQLite)
			ctx := context.Background()
			f := newFixture(t, st, tt.preset)
			p, _ := roles.PresetByKey(tt.preset)
			f.member(t, "creator", p.OwnerRoles...)
			f.member(t, "admin", tt.admin...)
			f.member(t, "target")
			if tt.option != "" {
				if err := f.svc.ApplyMemberOption(ctx, f.actor("creator"), "admin", tt.option, true, roles.Meta{}); err != nil {
					t.Fatal(err)
				}
			}
			if err := f.svc.SetMemberRoles(ctx, f.actor("admin"), "target", tt.assign, roles.Meta{}); err != nil {
				t.Fatalf("%v assigning %v: %v; the seed says %q", tt.admin, tt.assign, err, tt.citation)
			}
			if tt.admin[0] != roles.OwnerRole {
				err := f.svc.SetMemberRoles(ctx, f.actor("admin"), "target", []string{roles.OwnerRole}, roles.Meta{})
				if !errors.Is(err, roles.ErrForbidden) {
					t.Fatalf("%v making someone an owner: %v; want ErrForbidden", tt.admin, err)
				}
			}
			if err := f.svc.SetMemberRoles(ctx, f.actor("creator"), "target", tt.assign, roles.Meta{}); err != nil {
				t.Fatalf("the practice's creator (%v) assigning %v: %v", p.OwnerRoles, tt.assign, err)
			}
		})
	}
}
