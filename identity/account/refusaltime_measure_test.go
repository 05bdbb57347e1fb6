package account_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/account/accounttest"
	"github.com/frontdeskhq/frontdesk/identity/password"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
	"github.com/frontdeskhq/frontdesk/lockout"
)

// TestMeasureLockedRefusalTiming measures F4 on this machine with the
// production argon2id parameters, a real clock and a real timer: the median
// time of a wrong password for a locked account and for other addresses
// (unknown ones and unlocked members, alternately), 50 tries each,
// interleaved so that load on the machine affects both alike. The medians
// must be within 10%. It depends on the machine's speed and runs only when
// asked:
//
//	FRONTDESK_MEASURE_TIMING=1 go test -count=1 -run TestMeasureLockedRefusalTiming -v ./identity/account/
func TestMeasureLockedRefusalTiming(t *testing.T) {
	if os.Getenv("FRONTDESK_MEASURE_TIMING") != "1" {
		t.Skip("a timing measurement; set FRONTDESK_MEASURE_TIMING=1 to run it")
	}
	const tries = 50
	ctx := context.Background()
	st := storetest.Open(t, store.SQLite)
	guard := lockout.New(lockout.NewSQLCounter(st, time.Now), lockout.Settings{})
	env := accounttest.New(t, st, accounttest.Options{Params: password.DefaultParams(), Guard: guard, Now: time.Now})
	created, err := env.Service.CreatePractice(ctx, account.NewPractice{Slug: "sunrise", Name: "Sunrise",
		OwnerEmail: "owner@example.org"}, account.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	hash, err := password.NewHasher(password.DefaultParams(), 1).Hash(ctx, "right horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	member := func(email string) {
		if err := st.CreateMember(ctx, store.Member{ID: "m-" + email, PracticeID: created.PracticeID, Email: email,
			Status: store.StatusActive, PasswordHash: hash, CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	login := func(email string) time.Duration {
		start := time.Now()
		_, _, err := env.Service.Login(ctx, "sunrise", email, "wrong horse battery staple", account.Meta{ClientAddr: "203.0.113.9"})
		d := time.Since(start)
		if !errors.Is(err, account.ErrInvalidCredentials) {
			t.Fatalf("%s: %v", email, err)
		}
		return d
	}
	member("locked@example.org")
	for range 3 {
		login("locked@example.org")
	}
	for i := range 5 { // warm up: the first refusals measured
		login(fmt.Sprintf("warmup%d@example.org", i))
	}
	var locked, other []time.Duration
	for i := range tries {
		email := fmt.Sprintf("unknown%d@example.org", i)
		if i%2 == 1 {
			email = fmt.Sprintf("member%d@example.org", i)
			member(email)
		}
		if i%2 == 0 {
			locked = append(locked, login("locked@example.org"))
			other = append(other, login(email))
		} else {
			other = append(other, login(email))
			locked = append(locked, login("locked@example.org"))
		}
	}
	median := func(ds []time.Duration) time.Duration {
		s := slices.Clone(ds)
		slices.Sort(s)
		return (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	ml, mo := median(locked), median(other)
	ratio := float64(ml) / float64(mo)
	host, _ := os.Hostname()
	t.Logf("%s, %s/%s, %d CPUs, %s: median locked %s, other %s, ratio %.3f (%d tries each, argon2id %+v)",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), host,
		ml.Round(10*time.Microsecond), mo.Round(10*time.Microsecond), ratio, tries, password.DefaultParams())
	if ratio < 0.9 || ratio > 1.1 {
		t.Errorf("median of a locked account's refusal %s vs other addresses' %s: ratio %.3f, want within 10%%", ml, mo, ratio)
	}
}
