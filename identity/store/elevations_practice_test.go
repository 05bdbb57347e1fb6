package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
)

func TestPracticeActiveElevations(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		p := seedPractice(t, s, "sunrise")
		other := seedPractice(t, s, "other")
		a := seedMember(t, s, p, "m-a", "a@example.com", "practitioner")
		b := seedMember(t, s, p, "m-b", "b@example.com", "practitioner")
		c := seedMember(t, s, other, "m-c", "c@example.com", "practitioner")
		for _, e := range []store.Elevation{
			{ID: "e-late", PracticeID: p.ID, MemberID: a.ID, ExpiresAt: t0.Add(4 * time.Hour)},
			{ID: "e-soon", PracticeID: p.ID, MemberID: b.ID, ExpiresAt: t0.Add(2 * time.Hour)},
			{ID: "e-over", PracticeID: p.ID, MemberID: b.ID, ExpiresAt: t0.Add(30 * time.Minute)},
			{ID: "e-ended", PracticeID: p.ID, MemberID: a.ID, ExpiresAt: t0.Add(4 * time.Hour)},
			{ID: "e-other", PracticeID: other.ID, MemberID: c.ID, ExpiresAt: t0.Add(4 * time.Hour)},
		} {
			e.GrantedBy, e.Permissions, e.Reason, e.CreatedAt = "m-admin", []string{"clinical_notes.view:all"}, "client in crisis", t0
			if err := s.CreateElevation(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.EndElevation(ctx, p.ID, "e-ended", "m-admin", t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		got, err := s.PracticeActiveElevations(ctx, p.ID, t0.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, e := range got {
			ids = append(ids, e.ID)
		}
		if len(ids) != 2 || ids[0] != "e-soon" || ids[1] != "e-late" {
			t.Errorf("running elevations = %v, want [e-soon e-late] (not expired, ended or another practice's)", ids)
		}
	})
}
