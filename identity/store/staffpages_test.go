package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
)

// Migration 00017 on both engines: a practice's time zone and onboarding
// choice, an app's display name and launch URL, a practitioner's profile,
// member names for the audit trail, and the audit filter by person.
func TestStaffPagesStorage(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		p := seedPractice(t, s, "sunrise")
		q := seedPractice(t, s, "moonrise")
		{
			got, err := s.PracticeByID(ctx, p.ID)
			if err != nil || got.TimeZone != "UTC" || got.Onboarding != "" {
				t.Fatalf("new practice = %+v, %v; want UTC and preset onboarding", got, err)
			}
		}
		if err := s.SetPracticeTimeZone(ctx, p.ID, "America/Chicago"); err != nil {
			t.Fatal(err)
		}
		if err := s.SetPracticeOnboarding(ctx, p.ID, store.OnboardingTemporaryPassword); err != nil {
			t.Fatal(err)
		}
		if got, err := s.PracticeBySlug(ctx, "sunrise"); err != nil || got.TimeZone != "America/Chicago" ||
			got.Onboarding != store.OnboardingTemporaryPassword {
			t.Fatalf("after settings = %+v, %v", got, err)
		}
		if got, _ := s.PracticeBySlug(ctx, "moonrise"); got.TimeZone != "UTC" || got.Onboarding != "" {
			t.Fatalf("other practice changed: %+v", got)
		}
		if err := s.SetPracticeTimeZone(ctx, "p-nope", "UTC"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown practice: %v", err)
		}

		a := seedMember(t, s, p, "m1", "dana@example.org", "owner")
		b := seedMember(t, s, p, "m2", "sam@example.org", "clinician", "supervisor")
		seedMember(t, s, q, "m3", "other@example.org")
		prof := store.PractitionerProfile{LegalName: "Samuel Lee", PreferredName: "Sam Lee", Credentials: "LCSW",
			NPI: "1245319599", Taxonomy: "1041C0700X"}
		if err := s.SetPractitionerProfile(ctx, b.ID, prof, t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if got, err := s.MemberByID(ctx, p.ID, b.ID); err != nil || got.Profile() != prof {
			t.Fatalf("profile = %+v, %v", got.Profile(), err)
		}
		names, err := s.MemberNames(ctx, p.ID, []string{a.ID, b.ID, "m3", "missing"})
		if err != nil {
			t.Fatal(err)
		}
		if len(names) != 2 || names[b.ID].DisplayName != "Sam Lee" || names[b.ID].Email != "sam@example.org" ||
			!slices.Equal(names[b.ID].Roles, []string{"clinician", "supervisor"}) || !slices.Equal(names[a.ID].Roles, []string{"owner"}) {
			t.Fatalf("MemberNames = %+v (another practice's member or a missing one must not appear)", names)
		}

		app := store.App{ClientID: "app_1", PracticeID: p.ID, Name: "ehr", RedirectURIs: []string{"https://ehr.example/cb"},
			GrantTypes: []string{"authorization_code"}, CreatedAt: t0, UpdatedAt: t0,
			DisplayName: "Notes & Scheduling", LaunchURL: "https://ehr.example/"}
		if err := s.CreateApp(ctx, app); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.PracticeApp(ctx, p.ID, "app_1"); got.Title() != "Notes & Scheduling" || got.LaunchURL != "https://ehr.example/" {
			t.Fatalf("app = %+v", got)
		}
		if err := s.SetAppLaunch(ctx, p.ID, "app_1", "", "https://ehr.example/start", t0); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.PracticeApp(ctx, p.ID, "app_1"); got.Title() != "ehr" || got.LaunchURL != "https://ehr.example/start" {
			t.Fatalf("app after SetAppLaunch = %+v", got)
		}
		if err := s.SetAppLaunch(ctx, q.ID, "app_1", "x", "", t0); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("another practice's app: %v", err)
		}

		for _, e := range []store.AuditEvent{
			{PracticeID: p.ID, At: t0, Action: "member.unlock", Outcome: "success", ActorID: a.ID, SubjectID: b.ID},
			{PracticeID: p.ID, At: t0, Action: "login", Outcome: "success", ActorID: b.ID, SubjectID: b.ID},
			{PracticeID: p.ID, At: t0, Action: "login", Outcome: "success", ActorID: a.ID, SubjectID: a.ID},
			{PracticeID: q.ID, At: t0, Action: "login", Outcome: "success", ActorID: b.ID, SubjectID: b.ID},
		} {
			if err := s.AppendAudit(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		for _, c := range []struct {
			person string
			want   []string
		}{
			{b.ID, []string{"login", "member.unlock"}},
			{a.ID, []string{"login", "member.unlock"}},
			{"nobody", nil},
		} {
			recs, err := s.QueryAudit(ctx, store.AuditFilter{PracticeID: p.ID, Person: c.person})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range recs {
				got = append(got, r.Action)
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("person %s: %v, want %v", c.person, got, c.want)
			}
		}
	})
}
