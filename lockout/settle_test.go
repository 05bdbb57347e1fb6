package lockout_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/lockout"
)

// Decr gives back one count, never going below zero, on every back end.
func TestCounterDecr(t *testing.T) {
	counters(t, func(t *testing.T, c lockout.Counter, _ func(time.Duration)) {
		ctx := context.Background()
		for range 2 {
			if _, err := c.Incr(ctx, "d", 0); err != nil {
				t.Fatal(err)
			}
		}
		for range 3 {
			if err := c.Decr(ctx, "d"); err != nil {
				t.Fatal(err)
			}
		}
		if n, _, err := c.Peek(ctx, "d"); err != nil || n != 0 {
			t.Errorf("Peek after decrementing past zero = %d, %v; want 0", n, err)
		}
		if err := c.Decr(ctx, "missing"); err != nil {
			t.Errorf("Decr(missing) = %v", err)
		}
		if n, err := c.Incr(ctx, "d", 0); err != nil || n != 1 {
			t.Errorf("Incr after Decr = %d, %v; want 1", n, err)
		}
	})
}

// The lock follows failures, not attempt tickets: with three attempts in
// flight, the one that fails is one failure; released attempts free their
// slot; three failures lock.
func TestLockFollowsFailures(t *testing.T) {
	counters(t, func(t *testing.T, c lockout.Counter, _ func(time.Duration)) {
		ctx := context.Background()
		g := lockout.New(c, lockout.Settings{})
		a := lockout.Attempt{PracticeID: "p", AccountKey: "olive@example.org", ClientAddr: "192.0.2.1",
			Policy: lockout.Policy{Threshold: 3}}
		var tickets []lockout.Ticket
		for range 3 {
			tk, err := g.Begin(ctx, a)
			if err != nil {
				t.Fatal(err)
			}
			tickets = append(tickets, tk)
		}
		if _, err := g.Begin(ctx, a); !errors.Is(err, lockout.ErrBusy) {
			t.Fatalf("a fourth attempt while three are in flight: %v, want ErrBusy", err)
		}
		f, err := g.Failed(ctx, a, tickets[2])
		if err != nil || f.Lock {
			t.Fatalf("one failure among three attempts: Lock = %v, %v; want no lock", f.Lock, err)
		}
		// The other two end without a verdict and are released; the busy
		// fourth was never counted.
		for range 2 {
			if err := g.Release(ctx, a); err != nil {
				t.Fatal(err)
			}
		}
		for i := 2; i <= 3; i++ {
			tk, err := g.Begin(ctx, a)
			if err != nil {
				t.Fatalf("attempt after release refused: %v", err)
			}
			f, err := g.Failed(ctx, a, tk)
			if err != nil || f.Lock != (i == 3) {
				t.Fatalf("failure %d: Lock = %v, %v", i, f.Lock, err)
			}
		}
		// Success (here: unlock's reset) clears both counts.
		if err := g.Reset(ctx, a.PracticeID, a.AccountKey); err != nil {
			t.Fatal(err)
		}
		tk, err := g.Begin(ctx, a)
		if err != nil || tk.Count != 1 {
			t.Fatalf("Begin after reset = %+v, %v", tk, err)
		}
		if f, _ := g.Failed(ctx, a, tk); f.Lock {
			t.Error("first failure after reset locked")
		}
	})
}
