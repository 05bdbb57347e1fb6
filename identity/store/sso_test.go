package store_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
)

func TestSSOStorage(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		p := seedPractice(t, s, "sunrise")
		q := seedPractice(t, s, "moonrise")
		m := seedMember(t, s, p, "m1", "a@example.org")
		n := seedMember(t, s, p, "m2", "b@example.org")
		prov := store.SSOProvider{ID: "sp1", PracticeID: p.ID, Kind: "google", DisplayName: "Google",
			Issuer: "https://accounts.google.com", ClientID: "c1", ClientSecretEnc: []byte{1, 2, 3},
			AllowedDomains: []string{"a.example", "b.example"}, CreatedAt: t0}
		if err := s.CreateSSOProvider(ctx, prov); err != nil {
			t.Fatal(err)
		}
		dup := prov
		dup.ID = "sp2"
		if err := s.CreateSSOProvider(ctx, dup); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("same issuer and client twice: %v", err)
		}
		dup.PracticeID = q.ID // another practice may use the same client
		if err := s.CreateSSOProvider(ctx, dup); err != nil {
			t.Fatal(err)
		}
		got, err := s.SSOProviderByID(ctx, p.ID, "sp1")
		if err != nil || got.Issuer != prov.Issuer || len(got.AllowedDomains) != 2 || string(got.ClientSecretEnc) != "\x01\x02\x03" ||
			got.JoinEnabled || !got.CreatedAt.Equal(t0) {
			t.Fatalf("SSOProviderByID = %+v, %v", got, err)
		}
		if _, err := s.SSOProviderByID(ctx, q.ID, "sp1"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("another practice's provider: %v", err)
		}
		if list, err := s.SSOProviders(ctx, p.ID); err != nil || len(list) != 1 {
			t.Errorf("SSOProviders = %v, %v", list, err)
		}

		// Identities: one link per (practice, issuer, subject).
		link := store.SSOIdentity{ID: "i1", PracticeID: p.ID, ProviderID: "sp1", Issuer: prov.Issuer, Subject: "sub-1",
			MemberID: m.ID, Email: "a@a.example", LinkedVia: "invite", CreatedAt: t0}
		if err := s.CreateSSOIdentity(ctx, link); err != nil {
			t.Fatal(err)
		}
		again := link
		again.ID, again.MemberID = "i2", n.ID
		if err := s.CreateSSOIdentity(ctx, again); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("one upstream identity linked to two members: %v", err)
		}
		if got, err := s.SSOIdentityBySubject(ctx, p.ID, prov.Issuer, "sub-1"); err != nil || got.MemberID != m.ID {
			t.Fatalf("SSOIdentityBySubject = %+v, %v", got, err)
		}
		for _, tc := range []struct{ practice, issuer, subject string }{
			{q.ID, prov.Issuer, "sub-1"}, {p.ID, "https://other.example", "sub-1"}, {p.ID, prov.Issuer, "sub-2"},
		} {
			if _, err := s.SSOIdentityBySubject(ctx, tc.practice, tc.issuer, tc.subject); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("SSOIdentityBySubject(%v) = %v", tc, err)
			}
		}
		if err := s.TouchSSOIdentity(ctx, "i1", t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if ids, err := s.MemberSSOIdentities(ctx, p.ID, m.ID); err != nil || len(ids) != 1 || !ids[0].LastUsedAt.Equal(t0.Add(time.Hour)) {
			t.Errorf("MemberSSOIdentities = %+v, %v", ids, err)
		}
		if err := s.DeleteSSOIdentity(ctx, p.ID, n.ID, "i1"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("another member unlinks: %v", err)
		}

		// Flows: single use, bound to the browser, expiring.
		flow := store.SSOFlow{BindingHash: []byte("bind"), PracticeID: p.ID, ProviderID: "sp1", Purpose: "login",
			Next: "/p/x/admin/members", Nonce: "n", CodeVerifier: "v", CreatedAt: t0, ExpiresAt: t0.Add(10 * time.Minute)}
		if err := s.CreateSSOFlow(ctx, []byte("state"), flow); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ConsumeSSOFlow(ctx, []byte("state"), []byte("other browser"), t0); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("flow consumed by another browser: %v", err)
		}
		got2, err := s.ConsumeSSOFlow(ctx, []byte("state"), []byte("bind"), t0.Add(time.Minute))
		if err != nil || got2.Nonce != "n" || got2.CodeVerifier != "v" || got2.InvitationTokenHash != nil ||
			got2.Next != "/p/x/admin/members" {
			t.Fatalf("ConsumeSSOFlow = %+v, %v", got2, err)
		}
		if _, err := s.ConsumeSSOFlow(ctx, []byte("state"), []byte("bind"), t0.Add(time.Minute)); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("flow consumed twice: %v", err)
		}
		if err := s.CreateSSOFlow(ctx, []byte("late"), flow); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ConsumeSSOFlow(ctx, []byte("late"), []byte("bind"), t0.Add(10*time.Minute)); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("expired flow consumed: %v", err)
		}
		// Of concurrent finishes exactly one gets the flow.
		if err := s.CreateSSOFlow(ctx, []byte("race"), flow); err != nil {
			t.Fatal(err)
		}
		var wins atomic.Int32
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				if _, err := s.ConsumeSSOFlow(ctx, []byte("race"), []byte("bind"), t0); err == nil {
					wins.Add(1)
				}
			})
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Errorf("%d concurrent finishes succeeded", wins.Load())
		}

		// Join requests: one per upstream identity, decided once.
		j := store.SSOJoinRequest{ID: "j1", PracticeID: p.ID, ProviderID: "sp1", Issuer: prov.Issuer, Subject: "sub-9",
			Email: "new@a.example", RoleKey: "staff", CreatedAt: t0}
		if err := s.CreateSSOJoinRequest(ctx, j); err != nil {
			t.Fatal(err)
		}
		j.ID = "j2"
		if err := s.CreateSSOJoinRequest(ctx, j); !errors.Is(err, store.ErrConflict) {
			t.Errorf("second join request of one identity: %v", err)
		}
		if list, err := s.SSOJoinRequests(ctx, p.ID, "pending"); err != nil || len(list) != 1 || list[0].Status != "pending" {
			t.Fatalf("SSOJoinRequests = %+v, %v", list, err)
		}
		if err := s.DecideSSOJoinRequest(ctx, "j1", "rejected", "admin", "", t0); err != nil {
			t.Fatal(err)
		}
		if err := s.DecideSSOJoinRequest(ctx, "j1", "approved", "admin", "m9", t0); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("decided twice: %v", err)
		}
		if list, _ := s.SSOJoinRequests(ctx, p.ID, ""); len(list) != 1 || list[0].Status != "rejected" || list[0].DecidedBy != "admin" {
			t.Errorf("after decision = %+v", list)
		}

		// Removing a provider removes its links, flows and requests.
		if err := s.CreateSSOFlow(ctx, []byte("pending"), flow); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteSSOProvider(ctx, p.ID, "sp1"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SSOIdentityBySubject(ctx, p.ID, prov.Issuer, "sub-1"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("link survived its provider: %v", err)
		}
		if _, err := s.ConsumeSSOFlow(ctx, []byte("pending"), []byte("bind"), t0); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("flow survived its provider: %v", err)
		}
		if err := s.DeleteSSOProvider(ctx, p.ID, "sp1"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("delete twice: %v", err)
		}
		if n, err := s.PruneSSOFlows(ctx, t0.Add(time.Hour)); err != nil || n != 0 {
			t.Errorf("PruneSSOFlows = %d, %v", n, err)
		}
	})
}
