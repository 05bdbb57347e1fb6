package httpserver

import (
	"strings"
	"testing"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/roles"
)

// Every permission string a service may put in a refusal reads as words on
// a console page (issue 18, point 10): the class is the whole catalogue at
// every scope, plus app log-in rights; other dotted text (email addresses,
// domains) is left alone.
func TestPlainWordsReplacesEveryPermission(t *testing.T) {
	var perms []string
	for _, e := range roles.Catalogue() {
		if strings.Contains(e.Name, "<") {
			perms = append(perms, "app.datacollection.login")
			continue
		}
		if !e.Scoped() {
			perms = append(perms, e.Name)
			continue
		}
		for _, sc := range []roles.Scope{roles.ScopeOwn, roles.ScopeAssigned, roles.ScopeSupervisees, roles.ScopeAll} {
			perms = append(perms, e.Name+":"+string(sc))
		}
	}
	for _, p := range perms {
		got := plainWords("you cannot give the role: it grants " + p + ", which you do not hold")
		if strings.Contains(got, p) || !strings.Contains(got, "“") {
			t.Errorf("%s: %q", p, got)
		}
	}
	for _, keep := range []string{"sam@sessions.example", "sunrise-therapy.example", "Dr. Smith", "v1.2"} {
		if got := plainWords("ask " + keep + " again"); got != "ask "+keep+" again" {
			t.Errorf("%q changed to %q", keep, got)
		}
	}
	if got := permissionWords(roles.PermUnlock); got == "" || strings.Contains(got, roles.PermUnlock) {
		t.Errorf("permissionWords(%s) = %q", roles.PermUnlock, got)
	}
}

// Refused form fields say what to do, never "Check the email: is not …".
func TestInputSentence(t *testing.T) {
	for _, tt := range []struct {
		field, reason, want string
	}{
		{"email", "is required", "Enter their email address."},
		{"email", "is not a valid email address", "Enter the whole email address, like name@example.com."},
		{"email", "belongs to a locked account; unlock it first (frontdesk admin unlock), then issue the temporary password",
			"This email address belongs to a locked account; unlock it first, then issue the temporary password."},
		{"role", "give at least one role", "Choose at least one role."},
		{"role", "Clinical Administrator requires Clinician; assign Clinician too", "Clinical Administrator requires Clinician; assign Clinician too."},
		{"name", "is too long", "Check the name: is too long."},
		{"display_name", "is too long", "Check the display name: is too long."},
	} {
		got := inputSentence(&account.InvalidInputError{Field: tt.field, Reason: tt.reason})
		if got != tt.want {
			t.Errorf("%s %q: got %q, want %q", tt.field, tt.reason, got, tt.want)
		}
	}
}

// Scopes and grouping: every overridable permission lands in one area, in
// the catalogue's order, described in words.
func TestGroupPermissions(t *testing.T) {
	all := overridablePermissions()
	groups := groupPermissions(all)
	n := 0
	seen := map[string]bool{}
	for _, g := range groups {
		if seen[g.Area] {
			t.Errorf("area %s twice", g.Area)
		}
		seen[g.Area] = true
		for _, p := range g.Permissions {
			n++
			if p.Description == "" || strings.Contains(p.Description, p.Name) {
				t.Errorf("%s: description %q", p.Name, p.Description)
			}
		}
	}
	if n != len(all) {
		t.Errorf("%d permissions grouped, want %d", n, len(all))
	}
	if g := groupPermissions([]string{"made.up:all"}); len(g) != 1 || g[0].Area != "Other" ||
		g[0].Permissions[0].Description != "Another kind of access" {
		t.Errorf("unknown permission: %+v", g)
	}
}
