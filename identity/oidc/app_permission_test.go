package oidc_test

import (
	"errors"
	"testing"

	"github.com/frontdeskhq/frontdesk/identity/oidc"
)

// An app's required permission is "" or a permission of the catalogue,
// written as the catalogue says.
func TestCheckAppPermission(t *testing.T) {
	for _, c := range []struct {
		in, want string
		ok       bool
	}{
		{"", "", true},
		{"  ", "", true},
		{"app.*.login", "app.*.login", true},
		{"app.datacollection.login", "app.datacollection.login", true},
		{" billing.view:all ", "billing.view:all", true},
		{"clients.create", "clients.create", true},
		{"billing.view", "", false},          // scoped in the catalogue
		{"clients.create:all", "", false},    // not scoped in the catalogue
		{"nope.view", "", false},             // not in the catalogue
		{"app.app_AbC.login", "", false},     // upper case is not a permission word
		{"app.*.*", "", false},               // malformed
		{"billing.view:everyone", "", false}, // unknown scope
	} {
		got, err := oidc.CheckAppPermission(c.in)
		if c.ok && (err != nil || got != c.want) {
			t.Errorf("CheckAppPermission(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
		if !c.ok && !errors.Is(err, oidc.ErrInvalidApp) {
			t.Errorf("CheckAppPermission(%q) = %q, %v; want ErrInvalidApp", c.in, got, err)
		}
	}
}
