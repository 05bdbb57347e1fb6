package account_test

// Attempts beyond the threshold while others are in flight: answered busy,
// never "wrong password", counted toward nothing — and the bound on evaluated
// passwords still holds.

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/account/accounttest"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
	"github.com/frontdeskhq/frontdesk/lockout"
)

// gateHasher holds every evaluation until the gate opens, announcing each on
// started, and counts them.
type gateHasher struct {
	account.PasswordHasher
	verified atomic.Int64
	started  chan struct{}
	gate     chan struct{}
}

func (h *gateHasher) Verify(ctx context.Context, encoded, pw string) (bool, bool, error) {
	h.verified.Add(1)
	h.started <- struct{}{}
	<-h.gate
	return h.PasswordHasher.Verify(ctx, encoded, pw)
}

// busyWorld is a world whose hasher is a gateHasher.
func busyWorld(t *testing.T, st *store.Store, replicas int, counter func(*accounttest.Clock) lockout.Counter) (*world, *gateHasher) {
	t.Helper()
	w := newWorld(t, st, worldOpts{replicas: replicas, counter: counter,
		settings: lockout.Settings{AddressLimit: 5, AddressWindow: time.Hour}})
	g := &gateHasher{PasswordHasher: w.hasher.PasswordHasher, started: make(chan struct{}, 64), gate: make(chan struct{})}
	w.hasher.PasswordHasher = g
	return w, g
}

// backEnds are the counter back ends the busy tests run on: SQL on both
// engines, and Redis over three replicas on PostgreSQL.
func backEnds(t *testing.T, fn func(t *testing.T, st *store.Store, replicas int, counter func(*accounttest.Clock) lockout.Counter)) {
	storetest.ForEachEngine(t, func(t *testing.T, st *store.Store) { fn(t, st, 1, sqlCounter(st)) })
	t.Run("redis", func(t *testing.T) { fn(t, storetest.Open(t, store.Postgres), 3, redisCounter(t)) })
}

// TestBusyIsNotAWrongPassword: with three correct logins of one account in
// flight (threshold 3), a fourth correct login is answered ErrBusy — not
// ErrInvalidCredentials — without evaluating its password, however often it
// is repeated from one address: more times than the address limit, which it
// does not reach. Once the three finish, the same password from the same
// address logs in.
func TestBusyIsNotAWrongPassword(t *testing.T) {
	backEnds(t, func(t *testing.T, st *store.Store, replicas int, counter func(*accounttest.Clock) lockout.Counter) {
		w, g := busyWorld(t, st, replicas, counter)
		var wg sync.WaitGroup
		errs := make([]error, 3)
		for i := range 3 {
			wg.Go(func() { errs[i] = w.login(i, victimEmail, rightPassword, fmt.Sprintf("192.0.2.%d", 50+i)) })
		}
		for range 3 {
			<-g.started
		}
		for i := range 8 { // more than the address limit of 5
			err := w.login(i, victimEmail, rightPassword, attacker)
			if !errors.Is(err, account.ErrBusy) || errors.Is(err, account.ErrInvalidCredentials) || errors.Is(err, lockout.ErrThrottled) {
				t.Fatalf("fourth correct login #%d while three are in flight: %v, want ErrBusy", i, err)
			}
			if !errors.Is(err, account.ErrUnavailable) {
				t.Errorf("ErrBusy must also match ErrUnavailable: %v", err)
			}
		}
		if n := g.verified.Load(); n != 3 {
			t.Errorf("%d passwords evaluated, want the 3 in flight", n)
		}
		close(g.gate)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("in-flight correct login %d: %v", i, err)
			}
		}
		if err := w.login(0, victimEmail, rightPassword, attacker); err != nil {
			t.Fatalf("correct login after the busy answers, from the same address: %v", err)
		}
		if ev := w.audit(t, "login"); countOutcome(ev, "failure") != 0 || countOutcome(ev, "success") != 4 {
			t.Errorf("login audit: %d failures, %d successes; want 0 and 4 (busy is no attempt)",
				countOutcome(ev, "failure"), countOutcome(ev, "success"))
		}
		if got := w.metric(t, "frontdesk_login_failures_total"); got != 8 {
			t.Errorf("frontdesk_login_failures_total = %v, want the 8 busy answers", got)
		}
	})
}

// TestBusyKeepsTheBound: three wrong guesses in flight, then twenty more at
// once: every one of the twenty is busy and unevaluated; when the three fail
// the account is locked, and later guesses are refused unevaluated.
func TestBusyKeepsTheBound(t *testing.T) {
	backEnds(t, func(t *testing.T, st *store.Store, replicas int, counter func(*accounttest.Clock) lockout.Counter) {
		w, g := busyWorld(t, st, replicas, counter)
		var held sync.WaitGroup
		for i := range 3 {
			held.Go(func() {
				if err := w.login(i, victimEmail, wrongPassword, fmt.Sprintf("198.51.100.%d", i)); !errors.Is(err, account.ErrInvalidCredentials) {
					t.Errorf("held guess %d: %v", i, err)
				}
			})
		}
		for range 3 {
			<-g.started
		}
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Go(func() {
				if err := w.login(i, victimEmail, wrongPassword, fmt.Sprintf("203.0.113.%d", i)); !errors.Is(err, account.ErrBusy) {
					t.Errorf("guess %d beside three in flight: %v, want ErrBusy", i, err)
				}
			})
		}
		wg.Wait()
		close(g.gate)
		held.Wait()
		if m := w.member(t, w.victimID); m.Status != store.StatusLocked {
			t.Fatalf("status after three failures = %s, want locked", m.Status)
		}
		for i := range 5 {
			if err := w.login(i, victimEmail, rightPassword, "192.0.2.77"); !errors.Is(err, account.ErrInvalidCredentials) {
				t.Fatalf("correct password on the locked account: %v", err)
			}
		}
		if n := g.verified.Load(); n != 3 {
			t.Errorf("%d passwords evaluated, want 3", n)
		}
		if got := w.metric(t, "frontdesk_lockouts_total"); got != 1 {
			t.Errorf("frontdesk_lockouts_total = %v, want 1", got)
		}
	})
}
