package account_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/account/accounttest"
	"github.com/frontdeskhq/frontdesk/identity/password"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
	"github.com/frontdeskhq/frontdesk/lockout"
)

// hashTime is what one evaluation costs on the test's clock.
const hashTime = 37 * time.Millisecond

// slowHasher advances the clock by hashTime for every evaluation, real or
// dummy, and counts them.
type slowHasher struct {
	account.PasswordHasher
	clock *accounttest.Clock
	evals atomic.Int64
}

func (h *slowHasher) Verify(ctx context.Context, encoded, pw string) (bool, bool, error) {
	h.evals.Add(1)
	h.clock.Advance(hashTime)
	return h.PasswordHasher.Verify(ctx, encoded, pw)
}

func (h *slowHasher) VerifyDummy(ctx context.Context, pw string) bool {
	h.evals.Add(1)
	h.clock.Advance(hashTime)
	return h.PasswordHasher.VerifyDummy(ctx, pw)
}

// heldWait is an injected timer: each wait is announced on asked and ends
// when the test sends on fire.
type heldWait struct {
	asked chan time.Duration
	fire  chan struct{}
}

func (w *heldWait) wait(ctx context.Context, d time.Duration) error {
	w.asked <- d
	<-w.fire
	return nil
}

// TestCountedRefusalWaitsLikeAHash (F4): a login refused past the lockout
// threshold evaluates no hash but answers only after a timer as long as the
// refusals that did evaluate one (here: every refusal took hashTime on the
// clock), for every member of the class — a locked member, an unknown
// address, a deactivated member. A service
// that has measured no refusal yet spends the dummy hash instead, once.
func TestCountedRefusalWaitsLikeAHash(t *testing.T) {
	for _, c := range []struct {
		name, email string
		status      store.MemberStatus // of the member with that email; "" for none
		lockFirst   bool               // three wrong guesses lock the member first
	}{
		{"locked member", "clara@example.org", store.StatusActive, true},
		{"unknown address", "nobody@example.org", "", true},
		{"deactivated member", "dana@example.org", store.StatusDeactivated, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			st := storetest.Open(t, store.SQLite)
			ctx := context.Background()
			clock := accounttest.NewClock(time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC))
			guard := lockout.New(lockout.NewSQLCounter(st, clock.Now), lockout.Settings{})
			hasher := &slowHasher{clock: clock}
			hw := &heldWait{asked: make(chan time.Duration, 1), fire: make(chan struct{})}
			newEnv := func(prefix string) *accounttest.Env {
				return accounttest.New(t, st, accounttest.Options{Guard: guard, Clock: clock, IDPrefix: prefix,
					Wait: hw.wait, WrapHasher: func(h account.PasswordHasher) account.PasswordHasher {
						hasher.PasswordHasher = h
						return hasher
					}})
			}
			env, fresh := newEnv("a-"), newEnv("b-")
			created, err := env.Service.CreatePractice(ctx, account.NewPractice{Slug: "sunrise", Name: "Sunrise",
				OwnerEmail: "owner@example.org"}, account.Meta{})
			if err != nil {
				t.Fatal(err)
			}
			if c.status != "" {
				hash, err := password.NewHasher(accounttest.FastParams, 1).Hash(ctx, "right horse battery staple")
				if err != nil {
					t.Fatal(err)
				}
				if err := st.CreateMember(ctx, store.Member{ID: "m-1", PracticeID: created.PracticeID, Email: c.email,
					Status: c.status, PasswordHash: hash, CreatedAt: clock.Now()}); err != nil {
					t.Fatal(err)
				}
			}
			login := func(e *accounttest.Env, i int) error {
				_, _, err := e.Service.Login(ctx, "sunrise", c.email, "wrong horse battery staple",
					account.Meta{ClientAddr: fmt.Sprintf("198.51.100.%d", i)})
				return err
			}
			for i := range 3 {
				if err := login(env, i); !errors.Is(err, account.ErrInvalidCredentials) {
					t.Fatalf("guess %d: %v", i, err)
				}
			}
			select {
			case d := <-hw.asked:
				t.Fatalf("a refusal that evaluated a hash waited %s", d)
			default:
			}
			evals := hasher.evals.Load()
			if evals != 3 {
				t.Fatalf("%d evaluations for three guesses, want 3", evals)
			}

			done := make(chan error, 1)
			go func() { done <- login(env, 10) }()
			if d := <-hw.asked; d != hashTime {
				t.Errorf("the refusal past the threshold waits %s, want the measured %s", d, hashTime)
			}
			select {
			case err := <-done:
				t.Fatalf("answered before its timer fired: %v", err)
			default:
			}
			hw.fire <- struct{}{}
			if err := <-done; !errors.Is(err, account.ErrInvalidCredentials) {
				t.Fatalf("refusal past the threshold: %v", err)
			}
			if hasher.evals.Load() != evals {
				t.Error("the refusal past the threshold evaluated a hash")
			}

			// A replica that has measured nothing spends the dummy hash
			// once; after that it waits on its timer too.
			if err := login(fresh, 11); !errors.Is(err, account.ErrInvalidCredentials) {
				t.Fatalf("first refusal on a fresh replica: %v", err)
			}
			if got := hasher.evals.Load(); got != evals+1 {
				t.Errorf("first refusal past the threshold on a fresh replica: %d evaluations, want 1", got-evals)
			}
			go func() { done <- login(fresh, 12) }()
			if d := <-hw.asked; d != hashTime {
				t.Errorf("fresh replica's second refusal waits %s, want %s", d, hashTime)
			}
			hw.fire <- struct{}{}
			if err := <-done; !errors.Is(err, account.ErrInvalidCredentials) {
				t.Fatal(err)
			}
			if hasher.evals.Load() != evals+1 {
				t.Error("the fresh replica evaluated a hash for its second refusal")
			}
		})
	}
}
