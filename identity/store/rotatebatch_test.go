package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
)

// Many rotations at once (on SQLite they share transactions): each token
// rotates once, a concurrent second use of a token is a replay that revokes
// its family, and a rotation that fails (its successor's hash is taken) is
// undone alone, leaving its token unused, while the others commit.
func TestRotateRefreshTokenConcurrentMix(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		p := seedPractice(t, s, "sunrise")
		m := seedMember(t, s, p, "m1", "dana@example.com", "clinician")
		tok := func(id, fam string) store.RefreshToken {
			return store.RefreshToken{ID: id, FamilyID: fam, ClientID: "ehr", PracticeID: p.ID, MemberID: m.ID,
				AuthTime: t0, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
		}
		const tokens = 12
		for i := range tokens {
			id := fmt.Sprintf("t%d", i)
			if err := s.CreateRefreshToken(ctx, tok(id, "fam-"+id), oidcHash(id)); err != nil {
				t.Fatal(err)
			}
		}
		type use struct {
			token, next string
			hash        []byte
		}
		var uses []use
		for i := range tokens - 1 {
			uses = append(uses, use{fmt.Sprintf("t%d", i), fmt.Sprintf("n%d", i), oidcHash(fmt.Sprintf("n%d", i))})
		}
		for i := range 3 { // replays of t0..t2
			uses = append(uses, use{fmt.Sprintf("t%d", i), fmt.Sprintf("r%d", i), oidcHash(fmt.Sprintf("r%d", i))})
		}
		last := fmt.Sprintf("t%d", tokens-1) // its successor's hash is taken
		uses = append(uses, use{last, "dup", oidcHash("t3")})

		errs := make([]error, len(uses))
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i, u := range uses {
			wg.Go(func() {
				<-start
				fam := "fam-" + u.token
				errs[i] = s.RotateRefreshToken(ctx, u.token, tok(u.next, fam), u.hash, t0.Add(time.Minute))
			})
		}
		close(start)
		wg.Wait()

		won := map[string]int{}
		for i, u := range uses {
			switch err := errs[i]; {
			case u.token == last:
				if err == nil || errors.Is(err, store.ErrRefreshReplayed) || errors.Is(err, store.ErrNotFound) {
					t.Errorf("rotation onto a taken hash: %v, want a store error", err)
				}
			case err == nil:
				won[u.token]++
			case !errors.Is(err, store.ErrRefreshReplayed):
				t.Errorf("rotating %s: %v", u.token, err)
			}
		}
		for i := range tokens - 1 {
			id := fmt.Sprintf("t%d", i)
			if won[id] != 1 {
				t.Errorf("%s rotated %d times, want 1", id, won[id])
			}
			live, err := s.RevokeRefreshFamily(ctx, "fam-"+id, t0.Add(2*time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			if replayed := i < 3; replayed && live != 0 {
				t.Errorf("family of replayed %s: %d tokens still live", id, live)
			} else if !replayed && live != 2 { // the used token and its successor were unrevoked
				t.Errorf("family of %s: revoked %d tokens, want 2 (it and its successor)", id, live)
			}
			if next, err := s.RefreshTokenByHash(ctx, oidcHash(fmt.Sprintf("n%d", i))); i >= 3 && (err != nil || !next.UsedAt.IsZero()) {
				t.Errorf("successor of %s: %+v, %v", id, next, err)
			}
		}
		rt, err := s.RefreshTokenByHash(ctx, oidcHash(last))
		if err != nil || !rt.UsedAt.IsZero() {
			t.Errorf("token whose rotation failed: used at %v, %v; want unused", rt.UsedAt, err)
		}
	})
}
