package roles_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/roles"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
)

// TestEffectiveMemberMatchesEffective: after every kind of change, made
// through one Service, EffectiveMember of another Service (a second replica,
// whose role-model cache is warm) gives exactly what Effective reads afresh.
// The clock stands still, so the role-model version must move by itself.
func TestEffectiveMemberMatchesEffective(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := newFixture(t, st, "sessions")
		f.member(t, "owner1", "owner")
		f.member(t, "admin", "administrator")
		f.member(t, "sup1", "practitioner", "supervisor")
		f.member(t, "assoc", "practitioner")
		// A second practice on the zencare preset, which has toggles.
		if err := st.InTx(ctx, func(tx *store.Store) error {
			if err := tx.CreatePractice(ctx, store.Practice{ID: "p2", Slug: "p2", Name: "P2", CreatedAt: t0}); err != nil {
				return err
			}
			if _, err := roles.Install(ctx, tx, "p2", "zencare", t0); err != nil {
				return err
			}
			for id, held := range map[string][]string{"zowner": {"owner"}, "zther": {"therapist"}} {
				if err := tx.CreateMember(ctx, store.Member{ID: id, PracticeID: "p2", Email: id + "@example.org",
					Status: store.StatusActive, Roles: held, CreatedAt: t0}); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		replica, err := roles.New(roles.Deps{Store: st, Now: func() time.Time { return t0 }, NewID: func() string { return "r" }})
		if err != nil {
			t.Fatal(err)
		}
		check := func(step string) {
			t.Helper()
			for _, pm := range [][2]string{{f.pid, "owner1"}, {f.pid, "admin"}, {f.pid, "sup1"}, {f.pid, "assoc"},
				{"p2", "zowner"}, {"p2", "zther"}} {
				id := pm[1]
				want, err := f.svc.Effective(ctx, pm[0], id)
				if err != nil {
					t.Fatalf("%s: Effective(%s): %v", step, id, err)
				}
				m, err := st.MemberByID(ctx, pm[0], id)
				if err != nil {
					t.Fatal(err)
				}
				got, err := replica.EffectiveMember(ctx, m)
				if err != nil {
					t.Fatalf("%s: EffectiveMember(%s): %v", step, id, err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("%s: EffectiveMember(%s) = %+v, Effective = %+v", step, id, got, want)
				}
			}
		}
		check("start")
		check("start, cached")
		owner := f.actor("owner1")
		steps := []struct {
			name   string
			change func() error
		}{
			{"toggle", func() error {
				const k = "therapists_own_clients_only"
				m, err := f.svc.Model(ctx, "p2")
				if err != nil {
					return err
				}
				return f.svc.SetToggle(ctx, roles.Actor{PracticeID: "p2", MemberID: "zowner"}, k, !m.ToggleOn[k], roles.Meta{})
			}},
			{"toggle back", func() error {
				const k = "therapists_own_clients_only"
				m, err := f.svc.Model(ctx, "p2")
				if err != nil {
					return err
				}
				return f.svc.SetToggle(ctx, roles.Actor{PracticeID: "p2", MemberID: "zowner"}, k, !m.ToggleOn[k], roles.Meta{})
			}},
			{"role edited", func() error {
				m, _ := f.svc.Model(ctx, f.pid)
				for _, r := range m.Roles {
					if r.Key == "practitioner" {
						r.Permissions = append(r.Permissions, "forms.send:assigned")
						return f.svc.PutRole(ctx, owner, r, roles.Meta{})
					}
				}
				t.Fatal("no practitioner role")
				return nil
			}},
			{"role added", func() error {
				return f.svc.PutRole(ctx, owner, roles.Role{Key: "intern", Name: "Intern",
					Permissions: []string{"clinical_notes.create:assigned"}}, roles.Meta{})
			}},
			{"roles assigned", func() error {
				return f.svc.SetMemberRoles(ctx, owner, "assoc", []string{"practitioner", "intern"}, roles.Meta{})
			}},
			{"override", func() error {
				return f.svc.SetMemberOverrides(ctx, owner, "assoc", []roles.Override{{Permission: "billing.view:own"}}, roles.Meta{})
			}},
			{"supervisor", func() error {
				return f.svc.SetSupervisors(ctx, owner, "assoc", []roles.SupervisorLink{{SupervisorID: "sup1"}}, roles.Meta{})
			}},
			{"elevation", func() error {
				_, err := f.svc.GrantElevation(ctx, owner, "assoc", []string{"clients.view:all"}, time.Hour, "client in crisis, on call", roles.Meta{})
				return err
			}},
			{"roles removed", func() error {
				return f.svc.SetMemberRoles(ctx, owner, "assoc", []string{"practitioner"}, roles.Meta{})
			}},
			{"role deleted", func() error { return f.svc.DeleteRole(ctx, owner, "intern", roles.Meta{}) }},
		}
		for _, s := range steps {
			if err := s.change(); err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
			check(s.name)
		}
		if err := st.SetMemberStatus(ctx, "assoc", store.StatusDeactivated, t0); err != nil {
			t.Fatal(err)
		}
		m, _ := st.MemberByID(ctx, f.pid, "assoc")
		if _, err := replica.EffectiveMember(ctx, m); err != roles.ErrMemberNotFound {
			t.Fatalf("deactivated member: %v, want ErrMemberNotFound", err)
		}
	})
}

// BenchmarkEffectiveMember is BenchmarkEffective the way token grants call
// it: with the member row already read and the role model cached.
func BenchmarkEffectiveMember(b *testing.B) {
	st := storetest.Open(b, store.SQLite)
	ctx := context.Background()
	svc, err := roles.New(roles.Deps{Store: st, Now: func() time.Time { return t0 }, NewID: func() string { return "x" }})
	if err != nil {
		b.Fatal(err)
	}
	err = st.InTx(ctx, func(tx *store.Store) error {
		if err := tx.CreatePractice(ctx, store.Practice{ID: "p1", Slug: "p1", Name: "P1", CreatedAt: t0}); err != nil {
			return err
		}
		if _, err := roles.Install(ctx, tx, "p1", "sessions", t0); err != nil {
			return err
		}
		return tx.CreateMember(ctx, store.Member{ID: "m1", PracticeID: "p1", Email: "m1@example.org",
			Status: store.StatusActive, Roles: []string{"practitioner", "supervisor"}, CreatedAt: t0})
	})
	if err != nil {
		b.Fatal(err)
	}
	m, err := st.MemberByID(ctx, "p1", "m1")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := svc.EffectiveMember(ctx, m); err != nil {
			b.Fatal(err)
		}
	}
}
