package adminapi_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/frontdeskhq/frontdesk/identity/roles"
	"github.com/frontdeskhq/frontdesk/identity/store"
)

// Issue 4, point 3: the five presets are listed by the API, with their role
// names, permissions, toggles and member options exactly as the code defines
// them (the response is validated against docs/openapi.yaml by h.call).
func TestListPresets(t *testing.T) {
	h := newHarness(t, store.SQLite)
	owner := h.token("sunrise", "owner@sunrise.example", "console")
	scheduler := h.token("sunrise", "clin@sunrise.example", "console")

	r := h.call("GET", "/practices/sunrise/presets", owner, nil, nil)
	if r.status != 200 {
		t.Fatalf("owner: %d %s", r.status, r.body)
	}
	var got struct {
		Current string `json:"current"`
		Presets []struct {
			roles.Preset
			Default bool `json:"default"`
		} `json:"presets"`
	}
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatal(err)
	}
	if got.Current != roles.DefaultPreset {
		t.Errorf("current = %q, want %q (the practice was created without --preset)", got.Current, roles.DefaultPreset)
	}
	want := roles.Presets()
	if len(got.Presets) != len(want) {
		t.Fatalf("%d presets listed, want %d", len(got.Presets), len(want))
	}
	for i, w := range want {
		g := got.Presets[i]
		t.Run(w.Key, func(t *testing.T) {
			if g.Key != w.Key || g.Name != w.Name || g.Default != (w.Key == roles.DefaultPreset) ||
				!slices.Equal(g.OwnerRoles, w.OwnerRoles) {
				t.Errorf("preset = %s %q default=%v owner_roles=%v", g.Key, g.Name, g.Default, g.OwnerRoles)
			}
			if len(g.Roles) != len(w.Roles) || len(g.Toggles) != len(w.Toggles) || len(g.MemberOptions) != len(w.MemberOptions) {
				t.Fatalf("%d roles, %d toggles, %d member options; want %d, %d, %d", len(g.Roles), len(g.Toggles),
					len(g.MemberOptions), len(w.Roles), len(w.Toggles), len(w.MemberOptions))
			}
			for j, wr := range w.Roles {
				gr := g.Roles[j]
				if gr.Key != wr.Key || gr.Name != wr.Name || !slices.Equal(gr.Permissions, wr.Permissions) ||
					!slices.Equal(gr.Requires, wr.Requires) || !slices.Equal(gr.Exclusive, wr.Exclusive) {
					t.Errorf("role %s = %+v, want %+v", wr.Key, gr, wr)
				}
			}
		})
	}
	// Reading presets needs the same permissions as reading the role model:
	// a scheduler holds none of them.
	if r := h.call("GET", "/practices/sunrise/presets", scheduler, nil, nil); r.status != 403 || decodeError(t, r) != "forbidden" {
		t.Errorf("scheduler: %d %s", r.status, r.body)
	}
}
