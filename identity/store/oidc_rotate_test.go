package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
)

func TestRotateRefreshToken(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		p := seedPractice(t, s, "sunrise")
		m := seedMember(t, s, p, "m1", "dana@example.com", "clinician")
		tok := func(id string) store.RefreshToken {
			return store.RefreshToken{ID: id, FamilyID: "fam", ClientID: "ehr", PracticeID: p.ID, MemberID: m.ID,
				SessionID: "sess", Scopes: []string{"openid", "offline_access"}, AMR: []string{"pwd"}, AuthTime: t0,
				CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
		}
		if err := s.CreateRefreshToken(ctx, tok("rt1"), oidcHash("one")); err != nil {
			t.Fatal(err)
		}
		now := t0.Add(time.Minute)
		if err := s.RotateRefreshToken(ctx, "rt1", tok("rt2"), oidcHash("two"), now); err != nil {
			t.Fatalf("rotate: %v", err)
		}
		old, _ := s.RefreshTokenByHash(ctx, oidcHash("one"))
		next, err := s.RefreshTokenByHash(ctx, oidcHash("two"))
		if err != nil || old.UsedAt.IsZero() || !next.UsedAt.IsZero() || !next.RevokedAt.IsZero() {
			t.Fatalf("after rotation: old %+v, next %+v, %v", old, next, err)
		}
		// Rotating the used token again is a replay: nothing stored, family revoked.
		if err := s.RotateRefreshToken(ctx, "rt1", tok("rt3"), oidcHash("three"), now); !errors.Is(err, store.ErrRefreshReplayed) {
			t.Fatalf("second rotation: err = %v, want ErrRefreshReplayed", err)
		}
		if _, err := s.RefreshTokenByHash(ctx, oidcHash("three")); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("replayed rotation stored its token: %v", err)
		}
		if next, _ := s.RefreshTokenByHash(ctx, oidcHash("two")); next.RevokedAt.IsZero() {
			t.Error("replay did not revoke the family")
		}
		// A revoked (or expired) token is not usable and nothing changes.
		if err := s.RotateRefreshToken(ctx, "rt2", tok("rt4"), oidcHash("four"), now); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("revoked token: err = %v, want ErrNotFound", err)
		}
		if err := s.CreateRefreshToken(ctx, store.RefreshToken{ID: "rt5", FamilyID: "fam5", ClientID: "ehr", PracticeID: p.ID,
			MemberID: m.ID, AuthTime: t0, CreatedAt: t0, ExpiresAt: t0.Add(time.Second)}, oidcHash("five")); err != nil {
			t.Fatal(err)
		}
		if err := s.RotateRefreshToken(ctx, "rt5", tok("rt6"), oidcHash("six"), now); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("expired token: err = %v, want ErrNotFound", err)
		}
		if err := s.RotateRefreshToken(ctx, "missing", tok("rt7"), oidcHash("seven"), now); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown token: err = %v, want ErrNotFound", err)
		}
	})
}

// Concurrent rotations of one token: exactly one wins, the others see a
// replay and the family ends revoked.
func TestRotateRefreshTokenRace(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		p := seedPractice(t, s, "sunrise")
		m := seedMember(t, s, p, "m1", "dana@example.com", "clinician")
		base := store.RefreshToken{ID: "rt0", FamilyID: "fam", ClientID: "ehr", PracticeID: p.ID, MemberID: m.ID,
			AuthTime: t0, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
		if err := s.CreateRefreshToken(ctx, base, oidcHash("zero")); err != nil {
			t.Fatal(err)
		}
		const n = 6
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				next := base
				next.ID = "rt-next-" + string(rune('a'+i))
				errs[i] = s.RotateRefreshToken(ctx, "rt0", next, oidcHash(next.ID), t0.Add(time.Minute))
			})
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, store.ErrRefreshReplayed):
				t.Errorf("unexpected error: %v", err)
			}
		}
		if won != 1 {
			t.Fatalf("%d rotations won, want 1", won)
		}
		if n, err := s.RevokeRefreshFamily(ctx, "fam", t0.Add(time.Hour)); err != nil || n != 0 {
			t.Fatalf("family not fully revoked after the race: %d still live, %v", n, err)
		}
	})
}
