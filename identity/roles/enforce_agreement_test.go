package roles_test

import (
	"testing"

	"github.com/frontdeskhq/frontdesk/identity/enforce"
	"github.com/frontdeskhq/frontdesk/identity/roles"
)

// enforce's mirror of the permission rule agrees with identity/roles. The
// test lives here, in the server's module, because identity/enforce is its
// own module and must not depend on the server.
func TestImpliesMirrorsRoles(t *testing.T) {
	perms := []string{"notes.write", "notes.write:own", "notes.write:assigned", "notes.write:supervisees",
		"notes.write:all", "notes.read:all", "clients.notes.write:all", "app.ehr.login", "app.*.login",
		"app.datacollection.login", "app.ehr.login:own", "bad", "notes.write:forever", "notes.write:", ".x", "x.",
		"Notes.write", "app.*.logout", "x.*.login"}
	for _, h := range perms {
		for _, w := range perms {
			if got, want := enforce.Implies(h, w), roles.Implies(h, w); got != want {
				t.Errorf("Implies(%q, %q) = %v, roles says %v", h, w, got, want)
			}
		}
		if got, want := enforce.Allows([]string{h, "x.y"}, "notes.write:own"), roles.Allows([]string{h, "x.y"}, "notes.write:own"); got != want {
			t.Errorf("Allows(%q) = %v, roles says %v", h, got, want)
		}
	}
}
