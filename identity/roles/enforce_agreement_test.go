package roles_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/frontdeskhq/frontdesk/identity/enforce"
	"github.com/frontdeskhq/frontdesk/identity/roles"
)

// grammarCorpus is every catalogue permission with every scope and none,
// the constants frontdesk checks, and strings at and beyond each rule of the
// grammar.
func grammarCorpus() []string {
	perms := []string{"notes.write", "notes.write:own", "notes.write:assigned", "notes.write:supervisees",
		"notes.write:all", "notes.read:all", "clients.notes.write:all", "app.ehr.login", "app.*.login",
		"app.datacollection.login", "app.ehr.login:own", "bad", "notes.write:forever", "notes.write:", ".x", "x.",
		"Notes.write", "app.*.logout", "x.*.login", "app.*.x.login", "app..login", "notes..write", "notes.write:all:own",
		"notes.wri te", "notes.write\n", "", ":all", strings.Repeat("a", 196) + ".bbb", strings.Repeat("a", 197) + ".bbb",
		roles.PermManageMembers, roles.PermViewMembers, roles.PermViewOwnProfile, roles.PermCosignNotesForSupervisees}
	for _, e := range roles.Catalogue() {
		name := strings.Replace(e.Name, "<client>", "ehr", 1)
		perms = append(perms, name)
		for _, sc := range roles.Scopes() {
			perms = append(perms, name+":"+string(sc))
		}
	}
	return perms
}

// There is one permission grammar, identity/enforce's, which the practice
// apps import: roles.Parse accepts exactly what enforce.ParsePermission
// accepts, splits it the same way and gives the same reason, and roles'
// Implies, Allows and Normalize agree with enforce.Implies on every pair.
// The test lives here, in the server's module, because identity/enforce is
// its own module and must not depend on the server.
func TestOneGrammar(t *testing.T) {
	perms := grammarCorpus()
	for _, s := range perms {
		rp, rerr := roles.Parse(s)
		ep, eerr := enforce.ParsePermission(s)
		switch {
		case (rerr == nil) != (eerr == nil):
			t.Errorf("Parse(%.50q): roles says %v, enforce says %v", s, rerr, eerr)
		case rerr != nil:
			pe, ok := errors.AsType[*enforce.PermissionError](eerr)
			if !ok || !errors.Is(rerr, roles.ErrBadPermission) || !strings.HasSuffix(rerr.Error(), ": "+pe.Reason) {
				t.Errorf("Parse(%.50q): roles says %v, enforce says %v", s, rerr, eerr)
			}
		case rp.Resource != ep.Resource || rp.Action != ep.Action || string(rp.Scope) != ep.Scope:
			t.Errorf("Parse(%q): roles %+v, enforce %+v", s, rp, ep)
		case rp.String() != s:
			t.Errorf("Parse(%q).String() = %q", s, rp.String())
		}
	}
	for _, h := range perms {
		for _, w := range perms {
			want := enforce.Implies(h, w)
			if got := roles.Implies(h, w); got != want {
				t.Errorf("roles.Implies(%q, %q) = %v, enforce says %v", h, w, got, want)
			}
			if got := roles.Allows([]string{"x.y", h}, w); got != want {
				t.Errorf("roles.Allows([x.y %q], %q) = %v, enforce says %v", h, w, got, want)
			}
			if roles.Validate(h) != nil || roles.Validate(w) != nil || h == w {
				continue
			}
			// Normalize drops w when h implies it (and w does not imply
			// h back, which only equal strings do).
			out, err := roles.Normalize([]string{h, w})
			if err != nil {
				t.Fatal(err)
			}
			if dropped := len(out) == 1 && out[0] == h; dropped != want {
				t.Errorf("Normalize([%q %q]) = %q; enforce.Implies says %v", h, w, out, want)
			}
		}
	}
}
