package roles_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/frontdeskhq/frontdesk/identity/roles"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
)

// TestMigrateDelegation: a practice whose roles predate delegation (gives
// NULL, and the old TherapyNotes Account Owner who also deleted signed
// notes) gets its preset's who-staffs-whom, keeps every member's
// permissions, and gets exactly one audit event listing what changed; a
// second run finds nothing to do.
func TestMigrateDelegation(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := newFixture(t, st, "therapynotes")
		p, _ := roles.PresetByKey("therapynotes")
		var old []store.RoleDefinition
		for i, r := range p.Roles {
			perms := r.Permissions
			if r.Key == roles.OwnerRole {
				perms = append(slices.Clone(perms), "clinical_notes.delete_signed:all")
			}
			old = append(old, store.RoleDefinition{PracticeID: f.pid, Key: r.Key, Name: r.Name, Permissions: perms,
				Requires: r.Requires, Exclusive: r.Exclusive, Position: i, CreatedAt: t0, UpdatedAt: t0}) // Gives nil: NULL
		}
		if err := st.ReplaceRoleDefinitions(ctx, f.pid, old); err != nil {
			t.Fatal(err)
		}
		f.member(t, "own", "owner")
		f.member(t, "padmin", "practice_admin")
		f.member(t, "target")
		before := map[string][]string{"own": f.perms(t, "own").Permissions, "padmin": f.perms(t, "padmin").Permissions}
		if !roles.Allows(before["own"], "clinical_notes.delete_signed:all") {
			t.Fatal("the old owner should delete signed notes")
		}
		// Before the migration runs, the model already answers with the
		// preset's delegation.
		if err := f.svc.MayGive(ctx, f.actor("padmin"), []string{"clinician"}); err != nil {
			t.Fatalf("practice admin giving Clinician before the migration: %v", err)
		}

		n, err := f.svc.MigrateDelegation(ctx)
		if err != nil || n != 1 {
			t.Fatalf("MigrateDelegation = %d, %v; want 1 practice", n, err)
		}
		for id, perms := range before {
			if got := f.perms(t, id).Permissions; !slices.Equal(got, perms) {
				t.Errorf("%s's permissions changed: %v → %v", id, perms, got)
			}
		}
		ev := lastAudit(t, st, f.pid)
		if ev.Action != roles.ActionDelegationMigrated || ev.Outcome != "success" || ev.ActorID != roles.OperatorActorID {
			t.Fatalf("migration event = %+v", ev)
		}
		if g := ev.Details["gives.practice_admin"]; !strings.HasPrefix(g, "before: practice_admin; now: ") || !strings.Contains(g, "clinician") {
			t.Errorf("gives.practice_admin = %q", g)
		}
		if d := ev.Details["differs_from_preset.owner"]; d != "+clinical_notes.delete_signed:all" {
			t.Errorf("differs_from_preset.owner = %q", d)
		}
		defs, err := st.RoleDefinitions(ctx, f.pid)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range defs {
			if d.Gives == nil {
				t.Errorf("%s: gives still unset", d.Key)
			}
		}
		if n, err := f.svc.MigrateDelegation(ctx); err != nil || n != 0 {
			t.Fatalf("second run = %d, %v; want 0", n, err)
		}
		if err := f.svc.SetMemberRoles(ctx, f.actor("padmin"), "target", []string{"owner"}, roles.Meta{}); !errors.Is(err, roles.ErrForbidden) {
			t.Fatalf("practice admin giving owner after the migration: %v", err)
		}
	})
}
