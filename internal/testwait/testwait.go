// Package testwait bounds the waits of tests that watch something outside
// their own goroutines (a built binary, a database server, Chromium, a
// relying party): the only bound of such a wait is a hang guard shortly
// before the test's deadline (go test -timeout), never a guess of how fast
// the machine is, so a slow or loaded machine makes a test slower, never red.
//
// It is for tests only; the commands, e2e/browser and e2e/rp share it
// instead of each keeping a copy. (identity/enforce is its own module and
// does not use it.)
package testwait

import (
	"context"
	"testing"
	"time"
)

// NoDeadline bounds a test run without a deadline (go test -timeout 0); go
// test's default timeout gives every test one.
const NoDeadline = 10 * time.Minute

// Tick is how often For checks its condition.
const Tick = 50 * time.Millisecond

// At is when a test stops waiting: nine tenths of the time left before its
// deadline, so that it fails saying what it waited for instead of being
// killed; NoDeadline from now when it has none.
func At(t testing.TB) time.Time {
	if d, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if at, ok := d.Deadline(); ok {
			return time.Now().Add(time.Until(at) / 10 * 9)
		}
	}
	return time.Now().Add(NoDeadline)
}

// Guard fires at the hang guard (At), or never when the test has no
// deadline: the bound of a select that waits for an event.
func Guard(t testing.TB) <-chan time.Time {
	if d, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if at, ok := d.Deadline(); ok {
			timer := time.NewTimer(time.Until(at) / 10 * 9)
			t.Cleanup(func() { timer.Stop() })
			return timer.C
		}
	}
	return nil
}

// Context is a context that ends at the hang guard (At) or when the test
// ends, for a client, a browser or a process the test drives.
func Context(t testing.TB) context.Context {
	ctx, cancel := context.WithDeadline(context.Background(), At(t))
	t.Cleanup(cancel)
	return ctx
}

// For checks cond every Tick until it holds, for a state another process
// reaches that sends no event the test can wait on. within is how long the
// wait is expected to take: a longer wait is logged, not failed; the test
// fails only at its hang guard.
func For(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	start := time.Now()
	guard := Guard(t)
	tick := time.NewTicker(Tick)
	defer tick.Stop()
	for !cond() {
		select {
		case <-guard:
			t.Fatalf("still waiting for %s after %s (the test's deadline is near)", what, time.Since(start).Round(time.Millisecond))
		case <-tick.C:
		}
	}
	if took := time.Since(start); took > within {
		t.Logf("waiting for %s took %s (expected within %s)", what, took.Round(time.Millisecond), within)
	}
}
