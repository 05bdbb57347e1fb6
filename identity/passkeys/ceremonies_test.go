package passkeys_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/account/accounttest"
	"github.com/frontdeskhq/frontdesk/identity/passkeys"
	"github.com/frontdeskhq/frontdesk/identity/passkeys/passkeystest"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
	"github.com/frontdeskhq/frontdesk/lockout"
	"github.com/frontdeskhq/frontdesk/lockout/lockouttest"
)

func h(s string) []byte {
	x := sha256.Sum256([]byte(s))
	return x[:]
}

// The contract every ceremony store keeps: single use, kind and expiry
// checked with the service's clock, duplicate tokens refused.
func TestCeremonyStores(t *testing.T) {
	t0 := time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)
	run := func(t *testing.T, cs passkeys.Ceremonies, practiceID string) {
		ctx := context.Background()
		c := store.PasskeyCeremony{Kind: store.CeremonyLogin, PracticeID: practiceID, MemberID: "m", SessionID: "s",
			Data: `{"challenge":"abc"}`, CreatedAt: t0, ExpiresAt: t0.Add(5 * time.Minute)}
		for _, tok := range []string{"a", "b", "c"} {
			if err := cs.Put(ctx, h(tok), c); err != nil {
				t.Fatal(err)
			}
		}
		if err := cs.Put(ctx, h("a"), c); !errors.Is(err, store.ErrConflict) {
			t.Errorf("duplicate token: %v", err)
		}
		if _, err := cs.Take(ctx, h("b"), store.CeremonyRegister, t0); err == nil {
			t.Error("wrong kind accepted")
		}
		if _, err := cs.Take(ctx, h("b"), store.CeremonyLogin, t0); err == nil {
			t.Error("ceremony of the wrong kind survived")
		}
		if _, err := cs.Take(ctx, h("c"), store.CeremonyLogin, t0.Add(5*time.Minute)); err == nil {
			t.Error("expired ceremony accepted")
		}
		var wins atomic.Int32
		var wg sync.WaitGroup
		for range 6 {
			wg.Go(func() {
				got, err := cs.Take(ctx, h("a"), store.CeremonyLogin, t0)
				if err == nil && got.Data == c.Data && got.PracticeID == practiceID && got.MemberID == "m" &&
					got.SessionID == "s" && got.ExpiresAt.Equal(c.ExpiresAt) {
					wins.Add(1)
				}
			})
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Errorf("concurrent takes won %d times, want 1", wins.Load())
		}
	}
	t.Run("sql", func(t *testing.T) {
		storetest.ForEachEngine(t, func(t *testing.T, st *store.Store) {
			p := store.Practice{ID: "p1", Slug: "sunrise", Name: "Sunrise", CreatedAt: t0}
			if err := st.CreatePractice(context.Background(), p); err != nil {
				t.Fatal(err)
			}
			run(t, passkeys.NewSQLCeremonies(st), p.ID)
		})
	})
	t.Run("redis", func(t *testing.T) {
		rc := lockouttest.RequireRedis(t)
		run(t, passkeys.NewRedisCeremonies(rc, lockouttest.Prefix(t, rc)), "p1")
	})
}

// A ceremony begun on one replica is finished on another when they share
// Redis (and the database).
func TestRedisCeremoniesAcrossReplicas(t *testing.T) {
	rc := lockouttest.RequireRedis(t)
	prefix := lockouttest.Prefix(t, rc)
	st := storetest.Open(t, store.Postgres)
	ctx := context.Background()
	e := newEnv(t, st, lockout.Policy{})
	replica := func(clock *accounttest.Clock) *passkeys.Service {
		return passkeystest.NewService(t, st, e.acc.Service, clock.Now, func(d *passkeys.Deps, _ *passkeys.Config) {
			d.Ceremonies = passkeys.NewRedisCeremonies(rc, prefix)
		})
	}
	one, two := replica(e.acc.Clock), replica(e.acc.Clock)
	e.svc = one
	pr := e.owner(t, "sunrise")
	a, _ := e.register(t, pr)
	opts, token, err := one.BeginLogin(ctx, "sunrise", "")
	if err != nil {
		t.Fatal(err)
	}
	answer := a.Get(js(t, opts))
	got, _, err := two.FinishLogin(ctx, "sunrise", token, bytes.NewReader(answer), meta)
	if err != nil || got.Member.ID != pr.Member.ID {
		t.Fatalf("finish on the other replica: %v", err)
	}
	if _, _, err := one.FinishLogin(ctx, "sunrise", token, bytes.NewReader(answer), meta); !errors.Is(err, passkeys.ErrCeremonyInvalid) {
		t.Errorf("replay on the first replica: %v", err)
	}
	// Nothing went to the database table.
	if n, err := st.PrunePasskeyCeremonies(ctx, e.acc.Clock.Now().Add(time.Hour)); err != nil || n != 0 {
		t.Errorf("database ceremonies = %d, %v", n, err)
	}
}
