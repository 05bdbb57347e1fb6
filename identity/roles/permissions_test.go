package roles

import (
	"errors"
	"slices"
	"strings"
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
		} else if e.Scoped() {
			p += ":" + string(e.Scopes[0])
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

// Each scoped permission has the scopes that mean something for it, in the
// order of Scopes, always with all (a preset's "everything"); the schedule
// and staff profiles are one's own or everyone's. Every scoped permission a
// preset's role or toggle grants uses a scope the catalogue lists, so the
// roles editor shows the presets' roles as ordinary ticks.
func TestCatalogueScopes(t *testing.T) {
	byName := map[string]CatalogueEntry{}
	for _, e := range Catalogue() {
		byName[e.Name] = e
		if !e.Scoped() {
			continue
		}
		order := slices.Index(Scopes(), e.Scopes[0]) - 1
		for _, sc := range e.Scopes {
			i := slices.Index(Scopes(), sc)
			if i <= order {
				t.Errorf("%s: scopes %v are not distinct and narrowest first", e.Name, e.Scopes)
			}
			order = i
		}
		if e.Scopes[len(e.Scopes)-1] != ScopeAll {
			t.Errorf("%s: scopes %v lack all", e.Name, e.Scopes)
		}
	}
	for _, tt := range []struct {
		name string
		want []Scope
	}{
		{"schedule.view", []Scope{ScopeOwn, ScopeAll}},
		{"schedule.edit", []Scope{ScopeOwn, ScopeAll}},
		{"members.view", []Scope{ScopeOwn, ScopeAll}},
		{"clinical_notes.cosign", []Scope{ScopeSupervisees, ScopeAll}},
		{"billing.view", []Scope{ScopeAssigned, ScopeAll}},
		{"clients.create", nil},
	} {
		if got := byName[tt.name].Scopes; !slices.Equal(got, tt.want) {
			t.Errorf("%s: scopes %v, want %v", tt.name, got, tt.want)
		}
	}
	listed := func(where, perm string) {
		name, sc, scoped := strings.Cut(perm, ":")
		if e, ok := byName[name]; scoped && ok && !slices.Contains(e.Scopes, Scope(sc)) {
			t.Errorf("%s grants %s; %s has the scopes %v", where, perm, name, e.Scopes)
		}
	}
	for _, p := range Presets() {
		for _, r := range p.Roles {
			for _, perm := range r.Permissions {
				listed(p.Key+"/"+r.Key, perm)
			}
		}
		for _, tg := range p.Toggles {
			for _, perm := range append(slices.Clone(tg.On.Grant), tg.On.Revoke...) {
				listed(p.Key+" toggle "+tg.Key, perm)
			}
		}
	}
	// A permission written without its scope is told which ones it has.
	err := Validate("schedule.view")
	if err == nil || !strings.Contains(err.Error(), "add :own or :all") {
		t.Errorf("Validate(schedule.view) = %v; want the scopes it has", err)
	}
	if err := Validate("clients.view"); err == nil || !strings.Contains(err.Error(), "add :assigned, :supervisees or :all") {
		t.Errorf("Validate(clients.view) = %v; want the scopes it has", err)
	}
}

// The descriptions are the roles editor's labels and docs/roles.md's words:
// plain sentences a clinic office manager reads, with no notation
// ("own = …"), no permission strings and no jargon; a scoped one does not
// end in brackets, because the console adds whom it covers in brackets.
func TestCatalogueDescriptionsArePlain(t *testing.T) {
	for _, e := range Catalogue() {
		if e.Name == AppLogin {
			continue // docs/roles.md only: the editor names each app
		}
		d := e.Description
		if !strings.HasSuffix(d, ".") {
			t.Errorf("%s: %q is not a sentence", e.Name, d)
		}
		if e.Scoped() && strings.HasSuffix(d, ").") {
			t.Errorf("%s: %q ends in brackets, before the console's (whom it covers)", e.Name, d)
		}
		for _, jargon := range []string{" = ", "actor", "OpenID", "break-glass", "time-boxed", "user access", "overrides", ".view", ".edit", ":all"} {
			if strings.Contains(d, jargon) {
				t.Errorf("%s: %q says %q", e.Name, d, jargon)
			}
		}
	}
}
