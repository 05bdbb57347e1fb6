package httpserver_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/account/accounttest"
	"github.com/frontdeskhq/frontdesk/identity/httpserver"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
	"github.com/frontdeskhq/frontdesk/lockout"
)

// heldHasher holds every evaluation, real or dummy, while a gate is set,
// announcing each on started.
type heldHasher struct {
	account.PasswordHasher
	mu      sync.Mutex
	gate    chan struct{}
	started chan struct{}
}

func (h *heldHasher) hold() {
	h.mu.Lock()
	h.gate = make(chan struct{})
	h.mu.Unlock()
}

func (h *heldHasher) release() {
	h.mu.Lock()
	close(h.gate)
	h.gate = nil
	h.mu.Unlock()
}

func (h *heldHasher) wait() {
	h.mu.Lock()
	g := h.gate
	h.mu.Unlock()
	if g != nil {
		h.started <- struct{}{}
		<-g
	}
}

func (h *heldHasher) Verify(ctx context.Context, encoded, pw string) (bool, bool, error) {
	h.wait()
	return h.PasswordHasher.Verify(ctx, encoded, pw)
}

func (h *heldHasher) VerifyDummy(ctx context.Context, pw string) bool {
	h.wait()
	return h.PasswordHasher.VerifyDummy(ctx, pw)
}

// TestLoginBusyWhileAttemptsInFlight (issue 20 point 5): with the lockout
// threshold's three attempts at one address in flight, the login page
// answers a fourth — for a real account and for an unknown address alike —
// 503 with Retry-After: 1 and a message saying to try again in a moment,
// not "wrong email or password"; afterwards the correct password logs in.
func TestLoginBusyWhileAttemptsInFlight(t *testing.T) {
	srv := newTestServer(t)
	h := &heldHasher{started: make(chan struct{}, 8)}
	st := storetest.Open(t, store.SQLite)
	clock := accounttest.NewClock(time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC))
	env := accounttest.New(t, st, accounttest.Options{PublicURL: srv.URL, Clock: clock,
		Guard:      lockout.New(lockout.NewSQLCounter(st, clock.Now), lockout.Settings{AddressLimit: 30, AddressWindow: time.Hour}),
		WrapHasher: func(inner account.PasswordHasher) account.PasswordHasher { h.PasswordHasher = inner; return h }})
	srv.serve(t, httpserver.Deps{
		Accounts: env.Service, Onboarding: env.Onboard, DB: env.Store, Registry: env.Registry})
	ctx := context.Background()
	seedOwnerWith(t, env)
	s := &site{t: t, srv: srv.Server, env: env, client: newBrowser(t, srv.Server)}
	for _, email := range []string{"olive@example.org", "nobody@example.org"} {
		t.Run(email, func(t *testing.T) {
			h.hold()
			var wg sync.WaitGroup
			for range 3 {
				wg.Go(func() {
					_, _, _ = env.Service.Login(ctx, "sunrise", email, goodPassword, account.Meta{ClientAddr: "192.0.2.44"})
				})
			}
			for range 3 {
				<-h.started
			}
			r := s.post("/p/sunrise/login", url.Values{"email": {email}, "password": {goodPassword}})
			h.release()
			wg.Wait()
			if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") != "1" {
				t.Errorf("fourth login: %d, Retry-After %q; want 503 with Retry-After 1", r.status, r.header.Get("Retry-After"))
			}
			if !strings.Contains(r.body, "Too many sign-ins to this account at once — try again in a moment.") ||
				strings.Contains(r.body, "don&#39;t match") || strings.Contains(r.body, "don't match") {
				t.Errorf("fourth login's page does not say to try again in a moment:\n%.600s", r.body)
			}
		})
	}
	if r := s.post("/p/sunrise/login", url.Values{"email": {"olive@example.org"}, "password": {goodPassword}}); r.status != http.StatusSeeOther {
		t.Fatalf("login after the busy answer: %d\n%.400s", r.status, r.body)
	}
}
