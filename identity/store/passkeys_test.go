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

func TestPasskeyCredentials(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		p := seedPractice(t, s, "sunrise")
		q := seedPractice(t, s, "moonrise")
		m := seedMember(t, s, p, "m1", "a@example.org")
		other := seedMember(t, s, q, "m2", "b@example.org")
		pk := store.Passkey{ID: "pk1", CredentialID: []byte{1, 2, 3}, PracticeID: p.ID, MemberID: m.ID,
			PublicKey: []byte{9, 9}, AttestationType: "none", AttestationFormat: "none", AAGUID: make([]byte, 16),
			Transports: []string{"internal", "hybrid"}, SignCount: 5, UserVerified: true, BackupEligible: true,
			Name: "Laptop", CreatedAt: t0}
		if err := s.CreatePasskey(ctx, pk); err != nil {
			t.Fatal(err)
		}
		// A credential ID belongs to one member only, across practices.
		dup := pk
		dup.ID, dup.PracticeID, dup.MemberID = "pk2", q.ID, other.ID
		if err := s.CreatePasskey(ctx, dup); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("duplicate credential ID: %v", err)
		}
		got, err := s.PasskeyByCredentialID(ctx, []byte{1, 2, 3})
		if err != nil || got.ID != "pk1" || got.MemberID != m.ID || got.SignCount != 5 || !got.BackupEligible ||
			got.BackupState || !got.UserVerified || len(got.Transports) != 2 || !got.CreatedAt.Equal(t0) || !got.LastUsedAt.IsZero() {
			t.Fatalf("PasskeyByCredentialID = %+v, %v", got, err)
		}
		if _, err := s.PasskeyByCredentialID(ctx, []byte{4}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown credential: %v", err)
		}
		if _, err := s.PasskeyByID(ctx, q.ID, m.ID, "pk1"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("passkey by ID from another practice: %v", err)
		}
		// Counter update is conditional on the old value.
		if err := s.RecordPasskeyUse(ctx, "pk1", 5, 6, true, true, t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := s.RecordPasskeyUse(ctx, "pk1", 5, 7, true, true, t0.Add(time.Minute)); !errors.Is(err, store.ErrConflict) {
			t.Errorf("stale counter update: %v", err)
		}
		got, _ = s.PasskeyByID(ctx, p.ID, m.ID, "pk1")
		if got.SignCount != 6 || !got.BackupState || !got.LastUsedAt.Equal(t0.Add(time.Minute)) {
			t.Errorf("after use = %+v", got)
		}
		// Rename and delete only touch the owner's credential.
		if err := s.RenamePasskey(ctx, q.ID, other.ID, "pk1", "x"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("rename by another member: %v", err)
		}
		if err := s.RenamePasskey(ctx, p.ID, m.ID, "pk1", "Phone"); err != nil {
			t.Fatal(err)
		}
		list, err := s.MemberPasskeys(ctx, p.ID, m.ID)
		if err != nil || len(list) != 1 || list[0].Name != "Phone" {
			t.Fatalf("MemberPasskeys = %+v, %v", list, err)
		}
		if n, err := s.MemberPasskeyCount(ctx, p.ID, m.ID); err != nil || n != 1 {
			t.Errorf("MemberPasskeyCount = %d, %v", n, err)
		}
		if err := s.DeletePasskey(ctx, q.ID, other.ID, "pk1"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("delete by another member: %v", err)
		}
		if err := s.DeletePasskey(ctx, p.ID, m.ID, "pk1"); err != nil {
			t.Fatal(err)
		}
		if err := s.DeletePasskey(ctx, p.ID, m.ID, "pk1"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("second delete: %v", err)
		}
		if n, err := s.MemberPasskeyCount(ctx, p.ID, m.ID); err != nil || n != 0 {
			t.Errorf("MemberPasskeyCount after delete = %d, %v", n, err)
		}
		// The credential ID is free again once deleted.
		if err := s.CreatePasskey(ctx, dup); err != nil {
			t.Fatalf("re-register after delete: %v", err)
		}
		if n, err := s.DeleteMemberPasskeys(ctx, q.ID, other.ID); err != nil || n != 1 {
			t.Errorf("DeleteMemberPasskeys = %d, %v", n, err)
		}
	})
}

func TestPasskeyCeremoniesAreSingleUseAndExpire(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		p := seedPractice(t, s, "sunrise")
		c := store.PasskeyCeremony{Kind: store.CeremonyLogin, PracticeID: p.ID, Data: `{"challenge":"x"}`,
			CreatedAt: t0, ExpiresAt: t0.Add(5 * time.Minute)}
		for _, tok := range []string{"c1", "c2", "c3"} {
			if err := s.CreatePasskeyCeremony(ctx, hashOf(tok), c); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.CreatePasskeyCeremony(ctx, hashOf("c1"), c); !errors.Is(err, store.ErrConflict) {
			t.Errorf("duplicate token: %v", err)
		}
		// Wrong kind consumes it too: a token is good for one attempt.
		if _, err := s.ConsumePasskeyCeremony(ctx, hashOf("c3"), store.CeremonyRegister, t0); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("wrong kind: %v", err)
		}
		if _, err := s.ConsumePasskeyCeremony(ctx, hashOf("c3"), store.CeremonyLogin, t0); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("after wrong kind: %v", err)
		}
		if _, err := s.ConsumePasskeyCeremony(ctx, hashOf("c2"), store.CeremonyLogin, t0.Add(5*time.Minute)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("expired: %v", err)
		}
		var wins atomic.Int32
		var wg sync.WaitGroup
		for range 6 {
			wg.Go(func() {
				got, err := s.ConsumePasskeyCeremony(ctx, hashOf("c1"), store.CeremonyLogin, t0)
				if err == nil && got.Data == c.Data && got.PracticeID == p.ID {
					wins.Add(1)
				}
			})
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Errorf("concurrent consumes won %d times, want 1", wins.Load())
		}
		if err := s.CreatePasskeyCeremony(ctx, hashOf("c4"), c); err != nil {
			t.Fatal(err)
		}
		if n, err := s.PrunePasskeyCeremonies(ctx, t0.Add(time.Hour)); err != nil || n != 1 {
			t.Errorf("prune = %d, %v", n, err)
		}
	})
}

func TestReauthenticateSession(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		p := seedPractice(t, s, "sunrise")
		m := seedMember(t, s, p, "m1", "a@example.org")
		sess := store.Session{ID: "s1", PracticeID: p.ID, MemberID: m.ID, AMR: []string{"pwd"}, AuthTime: t0,
			CreatedAt: t0, LastSeenAt: t0, ExpiresAt: t0.Add(time.Hour)}
		if err := s.CreateSession(ctx, sess, hashOf("s1")); err != nil {
			t.Fatal(err)
		}
		if err := s.ReauthenticateSession(ctx, "s1", t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		got, _ := s.SessionByTokenHash(ctx, hashOf("s1"))
		if !got.AuthTime.Equal(t0.Add(time.Minute)) {
			t.Errorf("auth time = %v", got.AuthTime)
		}
		_ = s.EndSession(ctx, "s1", t0.Add(2*time.Minute))
		if err := s.ReauthenticateSession(ctx, "s1", t0.Add(3*time.Minute)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("ended session: %v", err)
		}
	})
}
