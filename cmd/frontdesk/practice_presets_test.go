package main

import (
	"context"
	"encoding/json"
	"errors"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/frontdeskhq/frontdesk/identity/roles"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/internal/servetest"
	"github.com/frontdeskhq/frontdesk/internal/testwait"
)

// TestPracticePresetsCommand runs the real binary: `practice presets` lists
// the presets in the documented JSON shape, and `practice create --preset`
// installs the preset and makes the owner its top administrator.
func TestPracticePresetsCommand(t *testing.T) {
	bin := frontdeskBinary.Path(t)
	dir := t.TempDir()
	run := func(args ...string) (int, string, string) {
		t.Helper()
		ctx := testwait.Context(t) // a hang guard, not a time limit
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Dir, cmd.Env = dir, servetest.CleanEnv()
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode(), stdout.String(), stderr.String()
		} else if err != nil {
			t.Fatal(err)
		}
		return 0, stdout.String(), stderr.String()
	}

	code, out, errOut := run("practice", "presets", "--json")
	if code != 0 {
		t.Fatalf("practice presets --json: exit %d: %s", code, errOut)
	}
	var presets []struct {
		Key     string `json:"key"`
		Name    string `json:"name"`
		Default bool   `json:"default"`
		Roles   []struct {
			Key         string   `json:"key"`
			Name        string   `json:"name"`
			Permissions []string `json:"permissions"`
		} `json:"roles"`
	}
	if err := json.Unmarshal([]byte(out), &presets); err != nil {
		t.Fatalf("presets JSON: %v\n%s", err, out)
	}
	var keys []string
	for _, p := range presets {
		keys = append(keys, p.Key)
		if p.Name == "" || len(p.Roles) == 0 || p.Default != (p.Key == roles.DefaultPreset) {
			t.Errorf("preset %+v", p)
		}
		for _, r := range p.Roles {
			if r.Key == "" || r.Name == "" || len(r.Permissions) == 0 {
				t.Errorf("preset %s role %+v", p.Key, r)
			}
		}
	}
	if !slices.Equal(keys, roles.PresetKeys()) {
		t.Errorf("listed presets %v, want %v", keys, roles.PresetKeys())
	}
	if code, out, _ := run("practice", "presets"); code != 0 || !strings.Contains(out, "Main Admin") {
		t.Errorf("practice presets: exit %d\n%s", code, out)
	}

	code, _, errOut = run("practice", "create", "--slug", "nope", "--name", "N", "--owner-email", "a@example.org", "--preset", "epic")
	if code != 2 || !strings.Contains(errOut, "preset") || !strings.Contains(errOut, "therapynotes") {
		t.Errorf("unknown preset: exit %d: %s", code, errOut)
	}
	code, out, errOut = run("practice", "create", "--slug", "harbor", "--name", "Harbor ABA", "--owner-email",
		"hana@example.org", "--preset", "aba", "--json")
	if code != 0 {
		t.Fatalf("create --preset aba: exit %d: %s", code, errOut)
	}
	var created struct {
		PracticeID string `json:"practice_id"`
		OwnerID    string `json:"owner_id"`
	}
	if err := json.Unmarshal([]byte(out), &created); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := run("practice", "create", "--slug", "plain", "--name", "Plain", "--owner-email", "p@example.org"); code != 0 {
		t.Fatalf("create without preset: exit %d: %s", code, errOut)
	}

	ctx := context.Background()
	st, err := store.Open(ctx, store.SQLite, filepath.Join(dir, "data", "frontdesk.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	owner, err := st.MemberByID(ctx, created.PracticeID, created.OwnerID)
	// Seed 001: the Main Admin, not a Clinical Director, so the creator
	// cannot log in to the data-collection app.
	if err != nil || !slices.Equal(owner.Roles, []string{"owner"}) {
		t.Fatalf("owner roles = %v, %v; want [owner]", owner.Roles, err)
	}
	rm, err := st.RoleModel(ctx, created.PracticeID)
	if err != nil || rm.Preset != "aba" {
		t.Fatalf("role model = %+v, %v", rm, err)
	}
	defs, err := st.RoleDefinitions(ctx, created.PracticeID)
	if err != nil || len(defs) != 9 {
		t.Fatalf("role definitions: %d, %v", len(defs), err)
	}
	plain, err := st.PracticeBySlug(ctx, "plain")
	if err != nil {
		t.Fatal(err)
	}
	if rm, err := st.RoleModel(ctx, plain.ID); err != nil || rm.Preset != roles.DefaultPreset {
		t.Fatalf("default preset: %+v, %v", rm, err)
	}
}
