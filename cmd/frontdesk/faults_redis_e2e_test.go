package main

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
	"github.com/frontdeskhq/frontdesk/internal/servetest"
	"github.com/frontdeskhq/frontdesk/internal/testwait"
	"github.com/frontdeskhq/frontdesk/lockout/lockouttest"
)

// TestFaultRedisStoppedAcrossReplicas stops the (private) Redis under three
// replicas. While it is down every password login, on every replica, is
// refused with 503 and Retry-After before any password is evaluated (the
// replicas' password-verification counters do not move), and nobody is
// locked by the refusals. When Redis returns — empty — every replica serves
// logins again without a restart, and failed attempts are counted across
// replicas again.
func TestFaultRedisStoppedAcrossReplicas(t *testing.T) {
	bin := frontdeskBinary.Path(t)
	_, dsn := storetest.DSN(t, store.Postgres)
	redis := lockouttest.StartServer(t)
	dir := t.TempDir()
	cfgFile := writeClientConfig(t, dir)
	lb, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := fmt.Sprintf("http://localhost:%d", lb.Addr().(*net.TCPAddr).Port)
	common := servetest.CleanEnv("FRONTDESK_SERVER_PUBLIC_URL="+base, "FRONTDESK_DATABASE_URL="+dsn,
		"FRONTDESK_REDIS_URL=redis://"+redis.Addr()+"/0",
		// A fresh Redis is a new run: no grace, so the first login is admitted.
		"FRONTDESK_LOCKOUT_REDIS_RECOVERY_GRACE=0s")
	if code, out := servetest.RunCLI(t, bin, dir, common, "migrate", "--config", cfgFile); code != 0 {
		t.Fatalf("migrate: %d %s", code, out)
	}
	rs := startReplicas(t, 3, bin, dir, cfgFile, common)
	rr := &roundRobin{backends: rs.backends, hits: map[string][]int{}}
	serveBalancer(t, lb, rr)
	b, page := setUpOwner(t, rs.procs[0], base)

	// One wrong password while Redis is up: counted.
	if st, _, _ := postLogin(b, page, "demo", "owner@demo.example", ownerPassword+" nope"); st != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d", st)
	}
	verified := func() []float64 {
		var v []float64
		for _, be := range rs.backends {
			v = append(v, metric(t, be, "frontdesk_password_verifications_total"))
		}
		return v
	}
	before := verified()

	redis.Stop()
	downAt := time.Now()
	// Six attempts round-robin: each replica gets a right and a wrong password.
	for i := range 6 {
		pw := ownerPassword
		if i%2 == 1 {
			pw += " nope"
		}
		start := time.Now()
		st, retry, body := postLogin(b, page, "demo", "owner@demo.example", pw)
		if st != http.StatusServiceUnavailable || retry == "" || !strings.Contains(body, "try again") {
			t.Errorf("login %d with Redis down: %d Retry-After %q\n%.400s", i, st, retry, body)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("login %d with Redis down took %s", i, d)
		}
	}
	if after := verified(); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("passwords evaluated while Redis was down: verifications per replica %v → %v", before, after)
	}
	for i, p := range rs.procs {
		if p.Logged("lockout counter unavailable; refusing the attempt without evaluating the password") == nil {
			t.Errorf("replica %d did not log the refusal", i)
		}
		if p.Exited() {
			t.Fatalf("replica %d exited while Redis was down\n%s", i, p.Dump())
		}
	}

	t.Logf("six refused logins took %s", time.Since(downAt).Round(time.Millisecond))
	redis.Start() // empty: the counters are gone
	upAt := time.Now()
	testwait.For(t, 30*time.Second, "logins to work again", func() bool {
		st, _, _ := postLogin(b, page, "demo", "owner@demo.example", ownerPassword)
		return st == http.StatusOK
	})
	t.Logf("logins worked again %s after Redis returned", time.Since(upAt).Round(time.Millisecond))
	// Every replica serves logins again (round-robin: three in a row).
	for i := range 3 {
		fresh := newBrowser(t, base)
		_, lp := fresh.get("/p/demo/login")
		if st, _, _ := postLogin(fresh, lp, "demo", "owner@demo.example", ownerPassword); st != http.StatusOK {
			t.Errorf("login %d after Redis returned: %d", i, st)
		}
	}
	// Counting across replicas resumes: three wrong passwords, each on
	// another replica, lock the account everywhere.
	for i := range 3 {
		if st, _, _ := postLogin(b, page, "demo", "owner@demo.example", ownerPassword+" nope"); st != http.StatusUnauthorized {
			t.Fatalf("wrong password %d after Redis returned: %d", i, st)
		}
	}
	for i := range 3 {
		st, _, body := postLogin(b, page, "demo", "owner@demo.example", ownerPassword)
		if st != http.StatusUnauthorized || !strings.Contains(body, "administrator") {
			t.Errorf("right password on the locked account (round %d): %d", i, st)
		}
	}
	for _, p := range rs.procs {
		p.Stop()
	}
}
