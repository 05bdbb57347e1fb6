package account_test

// Redis losing its counts — restarted empty, or failed over to a replica that
// lacks recent writes — must not buy an attacker more guesses: each account's
// counts are rebuilt from the failures in the audit trail before it is
// counted again, after a grace in which attempts let through before the loss
// settle.

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/account/accounttest"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
	"github.com/frontdeskhq/frontdesk/lockout"
	"github.com/frontdeskhq/frontdesk/lockout/lockouttest"
)

const recoveryGrace = 30 * time.Second

// TestRedisRestartedEmptyKeepsTheBound: threshold 3, two replicas on one
// PostgreSQL and a private Redis. One guess fails; a second is in flight when
// Redis is killed (-9) and restarted empty. Until the grace has passed no
// attempt is admitted; the guess in flight then fails. After the grace a
// burst of guesses on both replicas gets exactly one more evaluation — three
// in all across the outage — and the account is locked once.
func TestRedisRestartedEmptyKeepsTheBound(t *testing.T) {
	srv := lockouttest.StartServer(t)
	counter := lockout.NewRedisCounter(srv.Client(), "frontdesk:lockout:")
	st := storetest.Open(t, store.Postgres)
	w := newWorld(t, st, worldOpts{replicas: 2, counter: func(*accounttest.Clock) lockout.Counter { return counter },
		recoveryGrace: recoveryGrace})
	const straddler = "violet harbor lantern in flight"
	// A Redis never seen before is a new run too: the first attempt starts
	// the grace.
	if err := w.login(0, victimEmail, wrongPassword, attacker); !errors.Is(err, lockout.ErrRecovering) {
		t.Fatalf("first attempt ever: %v, want ErrRecovering", err)
	}
	w.clock.Advance(recoveryGrace)

	if err := w.login(0, victimEmail, wrongPassword, attacker); !errors.Is(err, account.ErrInvalidCredentials) {
		t.Fatalf("first guess: %v", err)
	}
	w.hasher.hold(straddler)
	inFlight := make(chan error, 1)
	go func() { inFlight <- w.login(1, victimEmail, straddler, attacker) }()
	<-w.hasher.held

	srv.Stop() // kill -9: the counts are gone
	srv.Start()
	// The first attempts may only find the client's dead connections; then
	// the new run is seen and nothing is admitted during the grace.
	var err error
	for range 5 {
		if err = w.login(0, victimEmail, rightPassword, "192.0.2.9"); errors.Is(err, lockout.ErrRecovering) {
			break
		}
		if !errors.Is(err, account.ErrUnavailable) {
			t.Fatalf("attempt just after the restart: %v, want ErrUnavailable", err)
		}
	}
	if !errors.Is(err, lockout.ErrRecovering) || !errors.Is(err, account.ErrUnavailable) {
		t.Fatalf("attempt after the restart: %v, want ErrUnavailable (recovering)", err)
	}
	close(w.hasher.release)
	if err := <-inFlight; !errors.Is(err, account.ErrInvalidCredentials) {
		t.Fatalf("guess in flight across the restart: %v", err)
	}
	evaluated := w.hasher.verified.Load()
	if evaluated != 2 {
		t.Fatalf("%d evaluated before the grace ended, want 2", evaluated)
	}
	w.clock.Advance(recoveryGrace - time.Second)
	for i := range 4 {
		if err := w.login(i, victimEmail, wrongPassword, attacker); !errors.Is(err, lockout.ErrRecovering) {
			t.Fatalf("guess %d within the grace: %v, want ErrRecovering", i, err)
		}
	}
	if w.hasher.verified.Load() != evaluated {
		t.Fatal("a password was evaluated within the grace")
	}

	w.clock.Advance(2 * time.Second)
	var wg sync.WaitGroup
	for i := range 30 {
		wg.Go(func() {
			err := w.login(i, victimEmail, wrongPassword, fmt.Sprintf("198.51.100.%d", i))
			if !errors.Is(err, account.ErrInvalidCredentials) && !errors.Is(err, account.ErrBusy) {
				t.Errorf("guess %d after the grace: %v", i, err)
			}
		})
	}
	wg.Wait()
	if n := w.hasher.verified.Load(); n != 3 {
		t.Fatalf("%d passwords evaluated across the outage, want the threshold, 3", n)
	}
	if m := w.member(t, w.victimID); m.Status != store.StatusLocked {
		t.Fatalf("status = %s, want locked", m.Status)
	}
	if got := w.metric(t, "frontdesk_lockouts_total"); got != 1 {
		t.Errorf("frontdesk_lockouts_total = %v, want 1", got)
	}
	if m := w.mails(victimEmail); len(m) != 1 {
		t.Errorf("lock mails to the member: %q, want one", m)
	}
}

// TestRedisRunChangeRebuildsCounts, on the shared Redis under a fresh prefix:
// the run record names another Redis process (as on a replica promoted by a
// failover, which holds its old master's record) and the account's counts
// there are behind the audit trail (the replica lacked the latest writes).
// The next attempt waits out the grace; then the counts are rebuilt from the
// trail, so the account is one guess from its lock, not three.
func TestRedisRunChangeRebuildsCounts(t *testing.T) {
	c := lockouttest.RequireRedis(t)
	prefix := lockouttest.Prefix(t, c)
	st := storetest.Open(t, store.Postgres)
	w := newWorld(t, st, worldOpts{replicas: 2,
		counter:       func(*accounttest.Clock) lockout.Counter { return lockout.NewRedisCounter(c, prefix) },
		recoveryGrace: recoveryGrace})
	ctx := context.Background()
	// Two failures under the current run; the first attempt starts the
	// grace, which the clock then passes.
	if err := w.login(0, victimEmail, wrongPassword, attacker); !errors.Is(err, lockout.ErrRecovering) {
		t.Fatalf("first attempt ever: %v, want ErrRecovering (a run first seen)", err)
	}
	w.clock.Advance(recoveryGrace)
	for i := range 2 {
		if err := w.login(i, victimEmail, wrongPassword, attacker); !errors.Is(err, account.ErrInvalidCredentials) {
			t.Fatalf("guess %d: %v", i, err)
		}
	}
	// The failover: the record holds the old master's run, the counts lost
	// the two failures.
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
	if err := c.HSet(ctx, prefix+"run", "id", "0123456789abcdef0123456789abcdef01234567").Err(); err != nil {
		t.Fatal(err)
	}
	if err := w.login(1, victimEmail, wrongPassword, attacker); !errors.Is(err, lockout.ErrRecovering) {
		t.Fatalf("first attempt on the promoted replica: %v, want ErrRecovering", err)
	}
	w.clock.Advance(recoveryGrace)
	if err := w.login(1, victimEmail, wrongPassword, attacker); !errors.Is(err, account.ErrInvalidCredentials) {
		t.Fatalf("third guess: %v", err)
	}
	if m := w.member(t, w.victimID); m.Status != store.StatusLocked {
		t.Fatalf("status after the third failure across the failover = %s, want locked", m.Status)
	}
	if n := w.hasher.verified.Load(); n != 3 {
		t.Errorf("%d evaluated, want 3", n)
	}
}

// TestRedisLossAtTheThresholdStillLocks: the failure that reaches the
// threshold is in flight when Redis is killed and restarted empty, so it is
// counted only in the new, empty Redis and locks nothing. When the counts are
// rebuilt after the grace they reach the threshold: the next attempt — the
// correct password — is refused unevaluated and the durable lock is written
// then, with its mail, once.
func TestRedisLossAtTheThresholdStillLocks(t *testing.T) {
	srv := lockouttest.StartServer(t)
	counter := lockout.NewRedisCounter(srv.Client(), "frontdesk:lockout:")
	st := storetest.Open(t, store.Postgres)
	w := newWorld(t, st, worldOpts{replicas: 2, counter: func(*accounttest.Clock) lockout.Counter { return counter },
		recoveryGrace: recoveryGrace})
	const straddler = "violet harbor lantern in flight"
	if err := w.login(0, victimEmail, wrongPassword, attacker); !errors.Is(err, lockout.ErrRecovering) {
		t.Fatalf("first attempt ever: %v, want ErrRecovering", err)
	}
	w.clock.Advance(recoveryGrace)
	for i := range 2 {
		if err := w.login(i, victimEmail, wrongPassword, attacker); !errors.Is(err, account.ErrInvalidCredentials) {
			t.Fatalf("guess %d: %v", i, err)
		}
	}
	w.hasher.hold(straddler)
	inFlight := make(chan error, 1)
	go func() { inFlight <- w.login(1, victimEmail, straddler, attacker) }()
	<-w.hasher.held
	srv.Stop()
	srv.Start()
	var err error
	for range 5 {
		if err = w.login(0, victimEmail, rightPassword, "192.0.2.9"); errors.Is(err, lockout.ErrRecovering) {
			break
		}
	}
	if !errors.Is(err, lockout.ErrRecovering) {
		t.Fatalf("attempt after the restart: %v, want ErrRecovering", err)
	}
	close(w.hasher.release)
	if err := <-inFlight; !errors.Is(err, account.ErrInvalidCredentials) {
		t.Fatalf("third guess, in flight across the restart: %v", err)
	}
	if m := w.member(t, w.victimID); m.Status != store.StatusActive {
		t.Fatalf("status = %s; the third failure, counted in the empty Redis, was expected not to lock yet", m.Status)
	}
	w.clock.Advance(recoveryGrace)
	for i := range 2 {
		if err := w.login(i, victimEmail, rightPassword, "192.0.2.9"); !errors.Is(err, account.ErrInvalidCredentials) {
			t.Fatalf("correct password after the counts were rebuilt to the threshold (%d): %v", i, err)
		}
	}
	if n := w.hasher.verified.Load(); n != 3 {
		t.Errorf("%d passwords evaluated, want 3", n)
	}
	if m := w.member(t, w.victimID); m.Status != store.StatusLocked {
		t.Fatalf("status = %s, want locked once the counts were rebuilt", m.Status)
	}
	if got := w.metric(t, "frontdesk_lockouts_total"); got != 1 {
		t.Errorf("frontdesk_lockouts_total = %v, want 1", got)
	}
	if m := w.mails(victimEmail); len(m) != 1 {
		t.Errorf("lock mails to the member: %q, want one", m)
	}
}
