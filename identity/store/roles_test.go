package store_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
)

func TestRoleModel(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		p := seedPractice(t, s, "sunrise")
		if _, err := s.RoleModel(ctx, p.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("RoleModel before any = %v, want ErrNotFound", err)
		}
		m := store.RoleModel{PracticeID: p.ID, Preset: "zencare", Toggles: map[string]bool{"a": true, "b": false}, UpdatedAt: t0}
		if err := s.PutRoleModel(ctx, m); err != nil {
			t.Fatal(err)
		}
		got, err := s.RoleModel(ctx, p.ID)
		if err != nil || !reflect.DeepEqual(got, m) {
			t.Fatalf("RoleModel = %+v, %v; want %+v", got, err, m)
		}
		m.Toggles = nil
		m.UpdatedAt = t0.Add(time.Minute)
		if err := s.PutRoleModel(ctx, m); err != nil {
			t.Fatal(err)
		}
		got, err = s.RoleModel(ctx, p.ID)
		if err != nil || len(got.Toggles) != 0 || !got.UpdatedAt.Equal(m.UpdatedAt) {
			t.Fatalf("RoleModel after update = %+v, %v", got, err)
		}
	})
}

func TestRoleDefinitions(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		p := seedPractice(t, s, "sunrise")
		other := seedPractice(t, s, "other")
		defs := []store.RoleDefinition{
			{Key: "owner", Name: "Owner", Permissions: []string{"audit.view"}, CreatedAt: t0, UpdatedAt: t0},
			{Key: "clinician", Name: "Clinician", Description: "Sees clients", Permissions: []string{"clients.view:all", "clinical_notes.view:assigned"},
				CreatedAt: t0, UpdatedAt: t0},
			{Key: "clinical_admin", Name: "Clinical Administrator", Requires: []string{"clinician"}, Exclusive: []string{"x"},
				Permissions: []string{"clinical_notes.delete_signed:all"}, CreatedAt: t0, UpdatedAt: t0},
		}
		if err := s.ReplaceRoleDefinitions(ctx, p.ID, defs); err != nil {
			t.Fatal(err)
		}
		if err := s.ReplaceRoleDefinitions(ctx, other.ID, defs[:1]); err != nil {
			t.Fatal(err)
		}
		got, err := s.RoleDefinitions(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		for i := range defs {
			defs[i].PracticeID, defs[i].Position = p.ID, i
			if defs[i].Requires == nil {
				defs[i].Requires = []string{}
			}
			if defs[i].Exclusive == nil {
				defs[i].Exclusive = []string{}
			}
		}
		if !reflect.DeepEqual(got, defs) {
			t.Fatalf("RoleDefinitions =\n%+v\nwant\n%+v", got, defs)
		}
		// Replacing is atomic: a duplicate key leaves the old set in place.
		bad := []store.RoleDefinition{{Key: "owner", Name: "A", UpdatedAt: t0}, {Key: "owner", Name: "B", UpdatedAt: t0}}
		if err := s.ReplaceRoleDefinitions(ctx, p.ID, bad); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("duplicate key = %v, want ErrConflict", err)
		}
		if got, _ := s.RoleDefinitions(ctx, p.ID); len(got) != 3 {
			t.Fatalf("after failed replace: %d definitions, want 3", len(got))
		}
		if got, _ := s.RoleDefinitions(ctx, other.ID); len(got) != 1 {
			t.Fatalf("other practice: %d definitions, want 1", len(got))
		}
	})
}

func TestMemberOverridesAndSupervisors(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		p := seedPractice(t, s, "sunrise")
		a := seedMember(t, s, p, "m-a", "a@example.com", "practitioner")
		b := seedMember(t, s, p, "m-b", "b@example.com", "supervisor", "practitioner")
		c := seedMember(t, s, p, "m-c", "c@example.com", "supervisor")

		ov := []store.MemberOverride{{Permission: "billing.view:own", Grant: false}, {Permission: "audit.view", Grant: true}}
		if err := s.SetMemberOverrides(ctx, a.ID, ov); err != nil {
			t.Fatal(err)
		}
		got, err := s.MemberOverrides(ctx, a.ID)
		want := []store.MemberOverride{{Permission: "audit.view", Grant: true}, {Permission: "billing.view:own", Grant: false}}
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("MemberOverrides = %+v, %v", got, err)
		}
		if err := s.SetMemberOverrides(ctx, a.ID, nil); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.MemberOverrides(ctx, a.ID); len(got) != 0 {
			t.Fatalf("after clearing: %+v", got)
		}

		sups := []store.Supervision{{SupervisorID: c.ID, CosignNotes: true, CreatedAt: t0},
			{SupervisorID: b.ID, CosignPlans: true, CreatedAt: t0}}
		if err := s.SetSupervisors(ctx, a.ID, sups); err != nil {
			t.Fatal(err)
		}
		gotSups, err := s.Supervisors(ctx, a.ID)
		wantSups := []store.Supervision{{MemberID: a.ID, SupervisorID: b.ID, CosignPlans: true, CreatedAt: t0},
			{MemberID: a.ID, SupervisorID: c.ID, CosignNotes: true, CreatedAt: t0}}
		if err != nil || !reflect.DeepEqual(gotSups, wantSups) {
			t.Fatalf("Supervisors = %+v, %v", gotSups, err)
		}
		gotSees, err := s.Supervisees(ctx, c.ID)
		if err != nil || len(gotSees) != 1 || gotSees[0].MemberID != a.ID {
			t.Fatalf("Supervisees = %+v, %v", gotSees, err)
		}
		// Nobody supervises themselves.
		if err := s.SetSupervisors(ctx, a.ID, []store.Supervision{{SupervisorID: a.ID, CreatedAt: t0}}); err == nil {
			t.Fatal("self-supervision was accepted")
		}
		if got, _ := s.Supervisors(ctx, a.ID); len(got) != 2 {
			t.Fatalf("failed replace changed supervisors: %+v", got)
		}

		roles, err := s.PracticeMemberRoles(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(roles, map[string][]string{a.ID: {"practitioner"}, b.ID: {"practitioner", "supervisor"}, c.ID: {"supervisor"}}) {
			t.Fatalf("PracticeMemberRoles = %v", roles)
		}
		if err := s.SetMemberStatus(ctx, c.ID, store.StatusDeactivated, t0); err != nil {
			t.Fatal(err)
		}
		if roles, _ := s.PracticeMemberRoles(ctx, p.ID); len(roles) != 2 {
			t.Fatalf("deactivated member still listed: %v", roles)
		}
	})
}

func TestElevations(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		p := seedPractice(t, s, "sunrise")
		a := seedMember(t, s, p, "m-a", "a@example.com", "practitioner")
		e := store.Elevation{ID: "e1", PracticeID: p.ID, MemberID: a.ID, GrantedBy: "m-admin",
			Permissions: []string{"clinical_notes.view:all"}, Reason: "client in crisis", CreatedAt: t0, ExpiresAt: t0.Add(4 * time.Hour)}
		if err := s.CreateElevation(ctx, e); err != nil {
			t.Fatal(err)
		}
		got, err := s.ActiveElevations(ctx, a.ID, t0.Add(time.Hour))
		if err != nil || len(got) != 1 || !reflect.DeepEqual(got[0], e) {
			t.Fatalf("ActiveElevations = %+v, %v", got, err)
		}
		if got, _ := s.ActiveElevations(ctx, a.ID, t0.Add(4*time.Hour)); len(got) != 0 {
			t.Fatalf("expired elevation still active: %+v", got)
		}
		if err := s.EndElevation(ctx, "other-practice", "e1", "m-admin", t0.Add(time.Hour)); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("EndElevation from another practice = %v, want ErrNotFound", err)
		}
		if err := s.EndElevation(ctx, p.ID, "e1", "m-admin", t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.ActiveElevations(ctx, a.ID, t0.Add(90*time.Minute)); len(got) != 0 {
			t.Fatalf("ended elevation still active: %+v", got)
		}
		if err := s.EndElevation(ctx, p.ID, "e1", "m-admin", t0.Add(2*time.Hour)); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("ending twice = %v, want ErrNotFound", err)
		}
	})
}
