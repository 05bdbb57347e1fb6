package lockout_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
	"github.com/frontdeskhq/frontdesk/lockout"
	"github.com/frontdeskhq/frontdesk/lockout/lockouttest"
)

// TestFirstRedisRunSkipsTheGrace: a new Redis run waits out the recovery
// grace unless the database has never seen a Redis run (a brand-new
// deployment: nothing can have been counted in a lost run). A run change
// after one was seen still waits, on every replica. Each case runs under a
// fresh key prefix, which the counter sees as a Redis it has never counted in.
func TestFirstRedisRunSkipsTheGrace(t *testing.T) {
	const grace = 30 * time.Second
	c := lockouttest.RequireRedis(t)
	otherRun := "0123456789abcdef0123456789abcdef01234567"
	tests := []struct {
		name string
		// seen: the database has seen a Redis run before.
		seen bool
		// runs: the limiter records runs in the database.
		runs bool
		want error
	}{
		{"brand-new deployment", false, true, nil},
		{"database saw a run before", true, true, lockout.ErrRecovering},
		{"runs not recorded", false, false, lockout.ErrRecovering},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			storetest.ForEachEngine(t, func(t *testing.T, st *store.Store) {
				ctx := context.Background()
				// A fresh database has seen no run.
				if tt.seen {
					if _, err := st.NoteRedisRun(ctx, otherRun, time.Unix(0, 0)); err != nil {
						t.Fatal(err)
					}
				}
				now := time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)
				clock := func() time.Time { return now }
				prefix := lockouttest.Prefix(t, c)
				set := lockout.Settings{Durable: st, RecoveryGrace: grace, Now: clock}
				if tt.runs {
					set.Runs = st
				}
				replicas := []*lockout.Limiter{
					lockout.New(lockout.NewRedisCounter(c, prefix), set),
					lockout.New(lockout.NewRedisCounter(c, prefix), set),
				}
				att := lockout.Attempt{PracticeID: "p1", AccountKey: "clara@example.org", ClientAddr: "192.0.2.7",
					Policy: lockout.DefaultPolicy()}
				for i, l := range replicas {
					tk, err := l.Begin(ctx, att)
					if !errors.Is(err, tt.want) {
						t.Fatalf("replica %d: Begin = %+v, %v; want %v", i, tk, err, tt.want)
					}
					if err == nil {
						if err := l.Release(ctx, att); err != nil {
							t.Fatal(err)
						}
					}
				}
				if tt.want != nil {
					return
				}
				// A run change after the first run was seen (a failover:
				// the record holds the old master's run, the counts and
				// markers are lost) waits out the grace on every replica,
				// and is admitted after it.
				keys, err := c.Keys(ctx, prefix+"*").Result()
				if err != nil {
					t.Fatal(err)
				}
				for _, k := range keys {
					if k != prefix+"run" {
						if err := c.Del(ctx, k).Err(); err != nil {
							t.Fatal(err)
						}
					}
				}
				if err := c.HSet(ctx, prefix+"run", "id", otherRun).Err(); err != nil {
					t.Fatal(err)
				}
				for i, l := range replicas {
					if _, err := l.Begin(ctx, att); !errors.Is(err, lockout.ErrRecovering) {
						t.Fatalf("replica %d after the run changed: %v, want ErrRecovering", i, err)
					}
				}
				now = now.Add(grace)
				if _, err := replicas[1].Begin(ctx, att); err != nil {
					t.Fatalf("after the grace: %v", err)
				}
			})
		})
	}
}
