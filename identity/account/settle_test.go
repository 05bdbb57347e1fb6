package account_test

import (
	"context"
	"errors"
	"sync"
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

// busyHasher answers ErrBusy for its first n verifications, like a hasher
// whose pool is full.
type busyHasher struct {
	account.PasswordHasher
	busy atomic.Int32
}

func (b *busyHasher) Verify(ctx context.Context, encoded, pw string) (bool, bool, error) {
	if b.busy.Add(-1) >= 0 {
		return false, false, password.ErrBusy
	}
	return b.PasswordHasher.Verify(ctx, encoded, pw)
}

func newSettleEnv(t *testing.T, st *store.Store, wrap func(account.PasswordHasher) account.PasswordHasher) *accounttest.Env {
	t.Helper()
	clock := accounttest.NewClock(time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC))
	guard := lockout.New(lockout.NewSQLCounter(st, clock.Now), lockout.Settings{AddressLimit: 1000, AddressWindow: time.Hour})
	env := accounttest.New(t, st, accounttest.Options{Guard: guard, Clock: clock, WrapHasher: wrap})
	created, err := env.Service.CreatePractice(context.Background(), account.NewPractice{Slug: "sunrise",
		Name: "Sunrise Therapy", OwnerEmail: "olive@example.org"}, account.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := env.Service.CompleteSetup(context.Background(), "sunrise", tokenOf(t, created.SetupURL),
		goodPassword, goodPassword, account.Meta{}); err != nil {
		t.Fatal(err)
	}
	return env
}

// Attempts that end with no verdict on the password (the hasher was busy)
// are given back: they neither lock the account nor keep refusing it.
func TestBusyAttemptsAreReleased(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		bh := &busyHasher{}
		env := newSettleEnv(t, st, func(h account.PasswordHasher) account.PasswordHasher { bh.PasswordHasher = h; return bh })
		bh.busy.Store(10)
		for range 10 {
			if _, _, err := env.Service.Login(ctx, "sunrise", "olive@example.org", goodPassword, account.Meta{ClientAddr: "192.0.2.1"}); !errors.Is(err, account.ErrUnavailable) {
				t.Fatalf("Login with a busy hasher = %v, want ErrUnavailable", err)
			}
		}
		if _, _, err := env.Service.Login(ctx, "sunrise", "olive@example.org", goodPassword, account.Meta{ClientAddr: "192.0.2.1"}); err != nil {
			t.Fatalf("correct login after busy attempts = %v; the busy attempts were not released", err)
		}
	})
}

// Several correct logins of one account at once may be refused while more
// than the threshold are in flight, but they never lock the account, and one
// wrong password among them is one failure, not a lock.
func TestConcurrentCorrectLoginsNeverLock(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		env := newSettleEnv(t, st, nil)
		var wg sync.WaitGroup
		for i := range 12 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				pw := goodPassword
				if i == 5 {
					pw = "one honest typo in the middle"
				}
				_, _, _ = env.Service.Login(ctx, "sunrise", "Olive@example.org", pw, account.Meta{ClientAddr: "192.0.2.2"})
			}()
		}
		wg.Wait()
		created, _ := st.PracticeBySlug(ctx, "sunrise")
		m, err := st.MemberByEmail(ctx, created.ID, "olive@example.org")
		if err != nil {
			t.Fatal(err)
		}
		if m.Status != store.StatusActive {
			t.Fatalf("member status after concurrent correct logins = %s, want active", m.Status)
		}
		if _, _, err := env.Service.Login(ctx, "sunrise", "olive@example.org", goodPassword, account.Meta{ClientAddr: "192.0.2.2"}); err != nil {
			t.Fatalf("login afterwards = %v", err)
		}
		// Three real failures still lock.
		for range 3 {
			_, _, _ = env.Service.Login(ctx, "sunrise", "olive@example.org", "not the password, sorry", account.Meta{ClientAddr: "192.0.2.2"})
		}
		m, _ = st.MemberByEmail(ctx, created.ID, "olive@example.org")
		if m.Status != store.StatusLocked {
			t.Fatalf("status after three failures = %s, want locked", m.Status)
		}
	})
}
