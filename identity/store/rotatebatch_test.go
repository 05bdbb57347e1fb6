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

// One batch of rotations, as the batcher runs them (on PostgreSQL one
// statement): each rotation's outcome is the one it would have alone, a
// token used twice in the batch is a replay of the first use, and a batch
// whose statement fails (a successor's hash is taken) still rotates every
// other token.
func TestRotateRefreshTokenBatch(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		p := seedPractice(t, s, "sunrise")
		m := seedMember(t, s, p, "m1", "dana@example.com", "clinician")
		tok := func(id, fam string, expires time.Time) store.RefreshToken {
			return store.RefreshToken{ID: id, FamilyID: fam, ClientID: "ehr", PracticeID: p.ID, MemberID: m.ID,
				SessionID: "sess-" + fam, Scopes: []string{"openid", "offline_access"}, AMR: []string{"pwd"},
				AuthTime: t0, CreatedAt: t0, ExpiresAt: expires}
		}
		now := t0.Add(time.Minute)
		for _, id := range []string{"a", "b", "used", "expired", "c", "d"} {
			expires := t0.Add(time.Hour)
			if id == "expired" {
				expires = t0.Add(time.Second)
			}
			if err := s.CreateRefreshToken(ctx, tok(id, "fam-"+id, expires), oidcHash(id)); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.RotateRefreshToken(ctx, "used", tok("used2", "fam-used", t0.Add(time.Hour)), oidcHash("used2"), now); err != nil {
			t.Fatal(err)
		}
		rot := func(used, next string, hash []byte) store.Rotation {
			return store.Rotation{UsedID: used, Next: tok(next, "fam-"+used, t0.Add(time.Hour)), NextHash: hash, Now: now}
		}
		errs, alone := s.RotateBatchForTest(ctx, []store.Rotation{
			rot("a", "a2", oidcHash("a2")),
			rot("b", "b2", oidcHash("b2")),
			rot("a", "a3", oidcHash("a3")), // a second use of a in the same batch
			rot("used", "used3", oidcHash("used3")),
			rot("expired", "expired2", oidcHash("expired2")),
			rot("missing", "missing2", oidcHash("missing2")),
		})
		// On PostgreSQL the batch's statement rotates a and b; the other
		// four are run alone, to find out why they did not rotate. On
		// SQLite every rotation runs in the batch's transaction.
		wantAlone := map[store.Engine]int{store.Postgres: 4}[s.Engine()]
		if alone != wantAlone {
			t.Errorf("%d rotations run alone, want %d", alone, wantAlone)
		}
		want := []error{nil, nil, store.ErrRefreshReplayed, store.ErrRefreshReplayed, store.ErrNotFound, store.ErrNotFound}
		for i, w := range want {
			if (w == nil && errs[i] != nil) || (w != nil && !errors.Is(errs[i], w)) {
				t.Errorf("rotation %d: %v, want %v", i, errs[i], w)
			}
		}
		for _, c := range []struct {
			hash       string
			stored     bool
			revoked    bool
			usedMarked bool
		}{
			{"a", true, true, true}, {"a2", true, true, false}, {"a3", false, false, false}, // a's family revoked by the replay
			{"b", true, false, true}, {"b2", true, false, false},
			{"used2", true, true, false}, {"used3", false, false, false},
			{"expired", true, false, false}, {"expired2", false, false, false}, {"missing2", false, false, false},
		} {
			rt, err := s.RefreshTokenByHash(ctx, oidcHash(c.hash))
			switch {
			case !c.stored:
				if !errors.Is(err, store.ErrNotFound) {
					t.Errorf("%s: stored (%v), want not", c.hash, err)
				}
			case err != nil:
				t.Errorf("%s: %v", c.hash, err)
			case rt.RevokedAt.IsZero() == c.revoked || rt.UsedAt.IsZero() == c.usedMarked:
				t.Errorf("%s: used %v, revoked %v; want used %v, revoked %v", c.hash, rt.UsedAt, rt.RevokedAt, c.usedMarked, c.revoked)
			}
		}

		// d's successor takes c's hash: the batch's statement fails, and
		// each rotation then runs alone: c rotates, d fails and stays unused.
		errs, alone = s.RotateBatchForTest(ctx, []store.Rotation{
			rot("c", "c2", oidcHash("c2")),
			rot("d", "d2", oidcHash("c")),
		})
		if wantAlone := map[store.Engine]int{store.Postgres: 2}[s.Engine()]; alone != wantAlone {
			t.Errorf("after a failed batch: %d rotations run alone, want %d", alone, wantAlone)
		}
		if errs[0] != nil {
			t.Errorf("c: %v", errs[0])
		}
		if errs[1] == nil || errors.Is(errs[1], store.ErrRefreshReplayed) || errors.Is(errs[1], store.ErrNotFound) {
			t.Errorf("d onto a taken hash: %v, want a store error", errs[1])
		}
		if rt, err := s.RefreshTokenByHash(ctx, oidcHash("c2")); err != nil || !rt.UsedAt.IsZero() {
			t.Errorf("c2: %+v, %v", rt, err)
		}
		if rt, err := s.RefreshTokenByHash(ctx, oidcHash("d")); err != nil || !rt.UsedAt.IsZero() || !rt.RevokedAt.IsZero() {
			t.Errorf("d after its failed rotation: %+v, %v; want unused", rt, err)
		}
	})
}
