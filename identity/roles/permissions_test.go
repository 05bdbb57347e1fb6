package roles

import (
	"errors"
	"slices"
	"testing"
)

func TestImplies(t *testing.T) {
	cases := []struct {
		held, wanted string
		want         bool
	}{
		{"clients.view:all", "clients.view:all", true},
		{"clients.view:all", "clients.view:supervisees", true},
		{"clients.view:all", "clients.view:assigned", true},
		{"clients.view:all", "clients.view:own", true},
		{"clients.view:supervisees", "clients.view:assigned", true},
		{"clients.view:supervisees", "clients.view:all", false},
		{"clients.view:assigned", "clients.view:own", true},
		{"clients.view:assigned", "clients.view:supervisees", false},
		{"clients.view:own", "clients.view:assigned", false},
		// No scope means unrestricted, on either side.
		{"clients.view", "clients.view:all", true},
		{"clients.view:all", "clients.view", true},
		{"clients.view:own", "clients.view", false},
		{"audit.view", "audit.view", true},
		// Different resource or action never implies.
		{"clients.view:all", "clients.edit:own", false},
		{"clients.view:all", "records.view:own", false},
		{"clinical_notes.view:all", "admin_notes.view:all", false},
		// Apps: a wildcard for every app, otherwise exact.
		{"app.*.login", "app.ehr.login", true},
		{"app.ehr.login", "app.ehr.login", true},
		{"app.ehr.login", "app.datacollection.login", false},
		{"app.ehr.login", "app.*.login", false},
		// Malformed strings imply nothing.
		{"clients.view:everything", "clients.view:own", false},
		{"clients", "clients", false},
		{"clients.*", "clients.view", false},
		{"", "", false},
	}
	for _, c := range cases {
		if got := Implies(c.held, c.wanted); got != c.want {
			t.Errorf("Implies(%q, %q) = %v, want %v", c.held, c.wanted, got, c.want)
		}
	}
}

func TestValidate(t *testing.T) {
	cases := []struct {
		perm string
		ok   bool
	}{
		{"clients.view:all", true},
		{"clients.view", false}, // scoped: needs a scope
		{"audit.view", true},
		{"audit.view:all", false}, // unscoped: takes none
		{"app.ehr.login", true},
		{"app.*.login", true},
		{"app.a.b.login", false},
		{"nothing.here", false},
		{"Clients.view:all", false},
		{"clients.view:", false},
		{"clients.view:all:all", false},
		{"clients..view", false},
	}
	for _, c := range cases {
		err := Validate(c.perm)
		if (err == nil) != c.ok {
			t.Errorf("Validate(%q) = %v, want ok=%v", c.perm, err, c.ok)
		}
		if err != nil && !errors.Is(err, ErrBadPermission) {
			t.Errorf("Validate(%q) error %v is not ErrBadPermission", c.perm, err)
		}
	}
}

func TestCatalogueNamesAreValid(t *testing.T) {
	seen := map[string]bool{}
	for _, e := range Catalogue() {
		if seen[e.Name] {
			t.Errorf("%s listed twice", e.Name)
		}
		seen[e.Name] = true
		p := e.Name
		if e.Name == AppLogin {
			p = "app.ehr.login"
		} else if e.Scoped {
			p += ":own"
		}
		if err := Validate(p); err != nil {
			t.Errorf("catalogue entry %s: %v", e.Name, err)
		}
		if e.Description == "" || e.Group == "" {
			t.Errorf("catalogue entry %s lacks a description or group", e.Name)
		}
	}
}

func TestNormalizeDropsImplied(t *testing.T) {
	got, err := Normalize([]string{"clients.view:own", "clients.view:all", "audit.view", "audit.view", "app.*.login", "app.ehr.login"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"app.*.login", "audit.view", "clients.view:all"}
	if !slices.Equal(got, want) {
		t.Errorf("Normalize = %v, want %v", got, want)
	}
}
