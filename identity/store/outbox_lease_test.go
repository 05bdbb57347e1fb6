package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
	"github.com/frontdeskhq/frontdesk/internal/testwait"
	"github.com/frontdeskhq/frontdesk/invites"
	"github.com/frontdeskhq/frontdesk/invites/smtptest"
)

// leaseClock is an injected clock: Now moves only when the test calls
// Advance, and After fires when Advance passes its deadline.
type leaseClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []leaseWaiter
	changed chan struct{} // closed and replaced whenever waiters change
}

type leaseWaiter struct {
	at time.Time
	ch chan time.Time
}

func newLeaseClock(at time.Time) *leaseClock {
	return &leaseClock{now: at, changed: make(chan struct{})}
}

func (c *leaseClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *leaseClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	c.waiters = append(c.waiters, leaseWaiter{at: c.now.Add(d), ch: ch})
	close(c.changed)
	c.changed = make(chan struct{})
	return ch
}

// Advance moves the clock and fires every timer that is due.
func (c *leaseClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if w.at.After(c.now) {
			kept = append(kept, w)
			continue
		}
		w.ch <- c.now
	}
	c.waiters = kept
	close(c.changed)
	c.changed = make(chan struct{})
}

// WaitForTimers waits until n timers are pending: the worker has come back
// to waiting after whatever the last Advance made it do.
func (c *leaseClock) WaitForTimers(t *testing.T, n int) {
	t.Helper()
	deadline := testwait.Guard(t) // a hang guard, not a bound on the machine's speed
	for {
		c.mu.Lock()
		have, changed := len(c.waiters), c.changed
		c.mu.Unlock()
		if have >= n {
			return
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("the worker did not wait on its renewal timer (%d of %d timers)", have, n)
		}
	}
}

// TestOutboxSlowServerSendsOnce is issue 21 point 2: a worker sending a batch
// to a slow mail server renews its claims, so a second worker finds nothing to
// claim even after the lease has passed many times over on the clock, and
// every message is delivered exactly once. The mail server holds each
// message "in sending" until the test releases it; the clock is injected.
func TestOutboxSlowServerSendsOnce(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		const n = 3
		for i := range n {
			enqueue(t, s, fmt.Sprintf("slow%d", i), "r", t0)
		}
		srv := smtptest.Start(t, smtptest.Options{Hold: true})
		sender := invites.NewSMTPSender(invites.SMTPConfig{Host: srv.Host(), Port: srv.Port(), TLS: "none",
			From: "frontdesk <no-reply@example.org>"})
		clock := newLeaseClock(t0)
		cfg := invites.DefaultWorkerConfig()
		newWorker := func(id string) *invites.Worker {
			c := cfg
			c.ID, c.After = id, clock.After
			w, err := invites.NewWorker(s, sender, c, nil, nil, clock.Now)
			if err != nil {
				t.Fatal(err)
			}
			return w
		}
		a, b := newWorker("replica-a"), newWorker("replica-b")

		done := make(chan error, 1)
		go func() {
			got, err := a.RunOnce(ctx)
			if err == nil && got != n {
				err = fmt.Errorf("replica a claimed %d, want %d", got, n)
			}
			done <- err
		}()
		for i := range n {
			srv.Held() // message i is now "in sending" at replica a
			// Ten seconds of sending per message, four times over the
			// lease in total: replica a renews every Lease/3.
			for range 4 {
				clock.WaitForTimers(t, 1)
				clock.Advance(cfg.Lease / 3)
				clock.WaitForTimers(t, 1) // the renewal ran and the worker waits again
			}
			if got, err := b.RunOnce(ctx); err != nil || got != 0 {
				t.Fatalf("message %d: replica b claimed %d (%v) while replica a was still sending", i, got, err)
			}
			srv.Release()
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		seen := map[string]int{}
		for _, m := range srv.Messages() {
			seen[m.MessageID()]++
		}
		if len(seen) != n {
			t.Errorf("%d distinct messages delivered, want %d", len(seen), n)
		}
		for id, c := range seen {
			if c != 1 {
				t.Errorf("%s delivered %d times", id, c)
			}
		}
		if pending, _ := s.CountOutboxPending(ctx); pending != 0 {
			t.Errorf("%d messages still pending", pending)
		}
	})
}

// TestOutboxCrashedWorkerRetakenWithin30s is issue 21 point 2: the claims of
// a worker that stopped without releasing them (kill -9) are taken up by
// another worker at most 30 s later, and not before the lease ends.
func TestOutboxCrashedWorkerRetakenWithin30s(t *testing.T) {
	lease := invites.DefaultWorkerConfig().Lease
	if lease > 30*time.Second {
		t.Fatalf("default lease %s: a crashed worker's mail would wait longer than 30 s", lease)
	}
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		for i := range 3 {
			enqueue(t, s, fmt.Sprintf("dead%d", i), "r", t0)
		}
		// What a crashed replica leaves behind: claims under the default lease
		// that nobody renews or releases.
		if got, err := s.ClaimOutbox(ctx, "crashed", t0, lease, 20); err != nil || len(got) != 3 {
			t.Fatalf("claim = %d, %v", len(got), err)
		}
		srv := smtptest.Start(t, smtptest.Options{})
		sender := invites.NewSMTPSender(invites.SMTPConfig{Host: srv.Host(), Port: srv.Port(), TLS: "none",
			From: "frontdesk <no-reply@example.org>"})
		clock := newLeaseClock(t0)
		cfg := invites.DefaultWorkerConfig()
		cfg.ID, cfg.After = "survivor", clock.After
		w, err := invites.NewWorker(s, sender, cfg, nil, nil, clock.Now)
		if err != nil {
			t.Fatal(err)
		}
		clock.Advance(lease - time.Second)
		if got, err := w.RunOnce(ctx); err != nil || got != 0 {
			t.Fatalf("before the lease ended: claimed %d, %v", got, err)
		}
		clock.Advance(time.Second)
		if got, err := w.RunOnce(ctx); err != nil || got != 3 {
			t.Fatalf("at the end of the lease: claimed %d, %v; want 3", got, err)
		}
		if got := len(srv.Messages()); got != 3 {
			t.Errorf("%d messages delivered, want 3", got)
		}
	})
}

// TestRenewOutbox: renewal extends only the named worker's pending claims.
func TestRenewOutbox(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		enqueue(t, s, "r1", "r", t0)
		enqueue(t, s, "r2", "r", t0)
		enqueue(t, s, "r3", "r", t0)
		if got, err := s.ClaimOutbox(ctx, "w1", t0, 30*time.Second, 2); err != nil || len(got) != 2 {
			t.Fatalf("claim = %d, %v", len(got), err)
		}
		if got, err := s.ClaimOutbox(ctx, "w2", t0, 30*time.Second, 2); err != nil || len(got) != 1 {
			t.Fatalf("claim = %d, %v", len(got), err)
		}
		if n, err := s.RenewOutbox(ctx, "w1", t0.Add(20*time.Second), 30*time.Second); err != nil || n != 2 {
			t.Fatalf("renew = %d, %v; want 2", n, err)
		}
		// At t0+40s w2's claim has lapsed, w1's (renewed to t0+50s) has not.
		got, err := s.ClaimOutbox(ctx, "w3", t0.Add(40*time.Second), 30*time.Second, 10)
		if err != nil || len(got) != 1 || got[0].ID != "r3" {
			t.Fatalf("claim after w2's lapse = %+v, %v; want r3 only", got, err)
		}
	})
}
