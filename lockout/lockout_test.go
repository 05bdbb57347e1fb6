package lockout_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/account/accounttest"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
	"github.com/frontdeskhq/frontdesk/lockout"
	"github.com/frontdeskhq/frontdesk/lockout/lockouttest"
)

// counters runs fn against every Counter back end: SQL on both engines (with
// an injectable clock, advance moves it) and Redis (advance shortens the
// keys' time to live, as the passing of that time would).
func counters(t *testing.T, fn func(t *testing.T, c lockout.Counter, advance func(time.Duration))) {
	t.Helper()
	storetest.ForEachEngine(t, func(t *testing.T, st *store.Store) {
		clock := accounttest.NewClock(time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC))
		fn(t, lockout.NewSQLCounter(st, clock.Now), clock.Advance)
	})
	t.Run("redis", func(t *testing.T) {
		c, advance := lockouttest.CounterAdvance(t)
		fn(t, c, advance)
	})
}

func TestCounterContract(t *testing.T) {
	counters(t, func(t *testing.T, c lockout.Counter, advance func(time.Duration)) {
		ctx := context.Background()
		for want := int64(1); want <= 3; want++ {
			n, err := c.Incr(ctx, "k", 0)
			if err != nil || n != want {
				t.Fatalf("Incr = %d, %v; want %d", n, err, want)
			}
		}
		if n, ttl, err := c.Peek(ctx, "k"); err != nil || n != 3 || ttl != 0 {
			t.Errorf("Peek = %d, %s, %v; want 3 without expiry", n, ttl, err)
		}
		if n, _, err := c.Peek(ctx, "other"); err != nil || n != 0 {
			t.Errorf("Peek(missing) = %d, %v", n, err)
		}
		if err := c.Reset(ctx, "k"); err != nil {
			t.Fatal(err)
		}
		if n, err := c.Incr(ctx, "k", 0); err != nil || n != 1 {
			t.Errorf("Incr after Reset = %d, %v", n, err)
		}

		// A window starts at the first increment and does not slide.
		const window = time.Hour // no machine is slow enough to see it end by itself
		for range 2 {
			if _, err := c.Incr(ctx, "w", window); err != nil {
				t.Fatal(err)
			}
		}
		if n, ttl, err := c.Peek(ctx, "w"); err != nil || n != 2 || ttl <= 0 || ttl > window {
			t.Errorf("Peek(w) = %d, %s, %v", n, ttl, err)
		}
		advance(window + 200*time.Millisecond)
		if n, _, err := c.Peek(ctx, "w"); err != nil || n != 0 {
			t.Errorf("Peek after the window = %d, %v", n, err)
		}
		if n, err := c.Incr(ctx, "w", window); err != nil || n != 1 {
			t.Errorf("Incr after the window = %d, %v; want a fresh count", n, err)
		}
	})
}

func TestCounterConcurrentIncrementsAreDistinct(t *testing.T) {
	counters(t, func(t *testing.T, c lockout.Counter, _ func(time.Duration)) {
		const n = 100
		seen := make([]bool, n+1)
		var mu sync.Mutex
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				v, err := c.Incr(context.Background(), "race", time.Hour)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				defer mu.Unlock()
				if v < 1 || v > n || seen[v] {
					t.Errorf("count %d handed out twice or out of range", v)
					return
				}
				seen[v] = true
			})
		}
		wg.Wait()
	})
}

func TestLimiter(t *testing.T) {
	counters(t, func(t *testing.T, c lockout.Counter, _ func(time.Duration)) {
		ctx := context.Background()
		l := lockout.New(c, lockout.Settings{AddressLimit: 2, AddressWindow: time.Hour})
		att := lockout.Attempt{PracticeID: "p1", AccountKey: "olive@example.org", ClientAddr: "203.0.113.7",
			Policy: lockout.DefaultPolicy()}
		// Three attempts pass; the third failure asks for the lock; the
		// fourth is refused before anything is evaluated.
		other := att
		other.ClientAddr = "198.51.100.1"
		for i, a := range []lockout.Attempt{att, other, other} {
			tk, err := l.Begin(ctx, a)
			if err != nil || tk.Count != int64(i+1) {
				t.Fatalf("Begin %d = %+v, %v", i+1, tk, err)
			}
			f, err := l.Failed(ctx, a, tk)
			if err != nil || f.Lock != (i == 2) {
				t.Fatalf("Failed %d = %+v, %v", i+1, f, err)
			}
		}
		if _, err := l.Begin(ctx, att); !errors.Is(err, lockout.ErrLocked) {
			t.Fatalf("fourth Begin: %v, want ErrLocked", err)
		}
		// Same account in another practice: its own count.
		elsewhere := att
		elsewhere.PracticeID = "p2"
		if tk, err := l.Begin(ctx, elsewhere); err != nil || tk.Count != 1 {
			t.Errorf("other practice: %+v, %v", tk, err)
		}
		// The second address reached its limit (2 failures): throttled.
		_, err := l.Begin(ctx, other)
		var te *lockout.ThrottledError
		if !errors.As(err, &te) || !errors.Is(err, lockout.ErrThrottled) || te.RetryAfter <= 0 || te.RetryAfter > time.Hour {
			t.Fatalf("Begin from a throttled address: %v", err)
		}
		// Reset (unlock) clears the account count.
		if err := l.Reset(ctx, "p1", "olive@example.org"); err != nil {
			t.Fatal(err)
		}
		if tk, err := l.Begin(ctx, att); err != nil || tk.Count != 1 {
			t.Errorf("after Reset: %+v, %v", tk, err)
		}
		if err := l.Succeeded(ctx, att); err != nil {
			t.Fatal(err)
		}
		if tk, err := l.Begin(ctx, att); err != nil || tk.Count != 1 {
			t.Errorf("after Succeeded: %+v, %v", tk, err)
		}
	})
}

func TestPolicyWithSettings(t *testing.T) {
	def := lockout.DefaultPolicy()
	tests := []struct {
		name     string
		settings map[string]any
		want     lockout.Policy
		wantErr  bool
	}{
		{"none", nil, def, false},
		{"not an object", map[string]any{"lockout": "x"}, def, false},
		{"all", map[string]any{"lockout": map[string]any{"threshold": 5.0, "window": "15m", "blocks": "all"}},
			lockout.Policy{Threshold: 5, Window: 15 * time.Minute, Blocks: lockout.BlocksAll}, false},
		{"bad threshold keeps default", map[string]any{"lockout": map[string]any{"threshold": 0.5}}, def, true},
		{"threshold too high", map[string]any{"lockout": map[string]any{"threshold": 1000.0}}, def, true},
		{"bad window", map[string]any{"lockout": map[string]any{"window": "-1m"}}, def, true},
		{"bad blocks", map[string]any{"lockout": map[string]any{"blocks": "passkey"}}, def, true},
		{"partly bad", map[string]any{"lockout": map[string]any{"threshold": 4.0, "blocks": 3.0}},
			lockout.Policy{Threshold: 4, Blocks: lockout.BlocksPassword}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := def.WithSettings(tt.settings)
			if got != tt.want || (err != nil) != tt.wantErr {
				t.Errorf("WithSettings = %+v, %v; want %+v (error %v)", got, err, tt.want, tt.wantErr)
			}
			if err := got.Validate(); err != nil {
				t.Errorf("result does not validate: %v", err)
			}
		})
	}
}

func TestBlocksMethod(t *testing.T) {
	pw, all := lockout.DefaultPolicy(), lockout.Policy{Threshold: 3, Blocks: lockout.BlocksAll}
	tests := []struct {
		p      lockout.Policy
		method string
		want   bool
	}{
		{pw, "pwd", true}, {pw, "hwk", false}, {pw, "fed", false},
		{all, "pwd", true}, {all, "hwk", true}, {all, "fed", true},
	}
	for _, tt := range tests {
		if got := tt.p.BlocksMethod(tt.method); got != tt.want {
			t.Errorf("%s blocks %s = %v", tt.p.Blocks, tt.method, got)
		}
	}
}

func TestAddressKey(t *testing.T) {
	tests := []struct {
		a, b string
		same bool
	}{
		{"203.0.113.7", "203.0.113.7", true},
		{"203.0.113.7", "203.0.113.8", false},
		{"::ffff:203.0.113.7", "203.0.113.7", true},
		{"2001:db8:1:2::1", "2001:db8:1:2:ffff::9", true}, // one /64
		{"2001:db8:1:2::1", "2001:db8:1:3::1", false},
		{"invalid IP", "invalid IP", true}, // unparsable addresses share a key, never skip
		{"invalid IP", "", false},
	}
	for _, tt := range tests {
		if got := lockout.AddressKey(tt.a) == lockout.AddressKey(tt.b); got != tt.same {
			t.Errorf("AddressKey(%q) == AddressKey(%q): %v, want %v", tt.a, tt.b, got, tt.same)
		}
	}
	if lockout.AccountKey("p1", "a@example.org") == lockout.AccountKey("p2", "a@example.org") {
		t.Error("account keys of two practices collide")
	}
}

func TestRetryAfterSeconds(t *testing.T) {
	for d, want := range map[time.Duration]string{0: "1", 300 * time.Millisecond: "1", time.Second: "1",
		1500 * time.Millisecond: "2", 15 * time.Minute: "900"} {
		if got := lockout.RetryAfterSeconds(d); got != want {
			t.Errorf("RetryAfterSeconds(%s) = %s, want %s", d, got, want)
		}
	}
}
