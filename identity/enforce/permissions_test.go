package enforce_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/frontdeskhq/frontdesk/identity/enforce"
)

// ParsePermission is the one permission grammar (frontdesk's identity/roles
// uses it too; its TestOneGrammar holds the two together). Each rule of the
// grammar, with what the error says.
func TestParsePermission(t *testing.T) {
	longest := strings.Repeat("a", 196) + ".bbb" // 200 bytes
	ok := []struct {
		in   string
		want enforce.Permission
	}{
		{"clients.view", enforce.Permission{Resource: "clients", Action: "view"}},
		{"clients.view:own", enforce.Permission{Resource: "clients", Action: "view", Scope: "own"}},
		{"clients.view:assigned", enforce.Permission{Resource: "clients", Action: "view", Scope: "assigned"}},
		{"clients.view:supervisees", enforce.Permission{Resource: "clients", Action: "view", Scope: "supervisees"}},
		{"clients.view:all", enforce.Permission{Resource: "clients", Action: "view", Scope: "all"}},
		{"app.my-ehr_2.login", enforce.Permission{Resource: "app.my-ehr_2", Action: "login"}},
		{"app.*.login", enforce.Permission{Resource: "app.*", Action: "login"}},
		{"clinical_notes.delete_signed:all", enforce.Permission{Resource: "clinical_notes", Action: "delete_signed", Scope: "all"}},
		{longest, enforce.Permission{Resource: strings.Repeat("a", 196), Action: "bbb"}},
	}
	for _, c := range ok {
		got, err := enforce.ParsePermission(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParsePermission(%.50q) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
	bad := []struct{ in, reason string }{
		{longest + "b", `"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"… is too long`},
		{"clients.view:everyone", `"clients.view:everyone" has an unknown scope; use one of own, assigned, supervisees, all`},
		{"clients.view:", `"clients.view:" has an unknown scope; use one of own, assigned, supervisees, all`},
		{"clients.view:ALL", `"clients.view:ALL" has an unknown scope; use one of own, assigned, supervisees, all`},
		{"clients.view:all:own", `"clients.view:all:own" has an unknown scope; use one of own, assigned, supervisees, all`},
		{"clients", `"clients" is not of the form resource.action[:scope]`},
		{"", `"" is not of the form resource.action[:scope]`},
		{".view", `".view" is not of the form resource.action[:scope]`},
		{"clients.", `"clients." is not of the form resource.action[:scope]`},
		{"Clients.view", `"Clients.view": "Clients" is not a word of a-z, 0-9, '_' and '-'`},
		{"clients..view", `"clients..view": "" is not a word of a-z, 0-9, '_' and '-'`},
		{"clients.vi ew", `"clients.vi ew": "vi ew" is not a word of a-z, 0-9, '_' and '-'`},
		{"clients.*", `"clients.*": "*" is not a word of a-z, 0-9, '_' and '-'`},
		{"x.*.login", `"x.*.login": "*" is not a word of a-z, 0-9, '_' and '-'`},
		{"app.*.x.login", `"app.*.x.login": "*" is not a word of a-z, 0-9, '_' and '-'`},
	}
	for _, c := range bad {
		_, err := enforce.ParsePermission(c.in)
		var pe *enforce.PermissionError
		if !errors.As(err, &pe) || pe.Reason != c.reason {
			t.Errorf("ParsePermission(%.50q) error %v; want reason %s", c.in, err, c.reason)
		} else if want := "enforce: malformed permission: " + c.reason; err.Error() != want {
			t.Errorf("ParsePermission(%.50q) error %q, want %q", c.in, err, want)
		}
	}
}

// The implication rule, on strings and on parsed permissions alike.
func TestImplies(t *testing.T) {
	cases := []struct {
		held, wanted string
		want         bool
	}{
		{"clients.view:all", "clients.view:supervisees", true},
		{"clients.view:supervisees", "clients.view:assigned", true},
		{"clients.view:assigned", "clients.view:own", true},
		{"clients.view:own", "clients.view:own", true},
		{"clients.view:own", "clients.view:assigned", false},
		{"clients.view:assigned", "clients.view:supervisees", false},
		{"clients.view:supervisees", "clients.view:all", false},
		{"clients.view", "clients.view:all", true}, // no scope is unrestricted
		{"clients.view:all", "clients.view", true},
		{"clients.view:supervisees", "clients.view", false},
		{"clients.view:all", "clients.edit:own", false},
		{"clients.view:all", "records.view:own", false},
		{"app.*.login", "app.ehr.login", true},
		{"app.ehr.login", "app.*.login", false},
		{"app.ehr.login", "app.aba.login", false},
		{"app.*.logout", "app.ehr.logout", true}, // the wildcard is any app's, whatever the action
		{"clients.view:everyone", "clients.view:own", false},
		{"clients.view:all", "clients.view:everyone", false},
		{"clients", "clients", false},
	}
	for _, c := range cases {
		if got := enforce.Implies(c.held, c.wanted); got != c.want {
			t.Errorf("Implies(%q, %q) = %v, want %v", c.held, c.wanted, got, c.want)
		}
		if got := enforce.Allows([]string{"x.y", c.held}, c.wanted); got != c.want {
			t.Errorf("Allows([x.y %q], %q) = %v, want %v", c.held, c.wanted, got, c.want)
		}
		h, herr := enforce.ParsePermission(c.held)
		w, werr := enforce.ParsePermission(c.wanted)
		if herr == nil && werr == nil && h.Implies(w) != c.want {
			t.Errorf("%+v.Implies(%+v) = %v, want %v", h, w, !c.want, c.want)
		}
	}
	// A Permission built by hand with an unknown scope implies nothing and
	// is implied by nothing, even by itself.
	odd := enforce.Permission{Resource: "clients", Action: "view", Scope: "everyone"}
	all := enforce.Permission{Resource: "clients", Action: "view", Scope: "all"}
	if odd.Implies(odd) || odd.Implies(all) || all.Implies(odd) {
		t.Error("a Permission with an unknown scope takes part in implication")
	}
}
