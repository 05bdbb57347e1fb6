package httpserver_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/account/accounttest"
	"github.com/frontdeskhq/frontdesk/identity/httpserver"
	"github.com/frontdeskhq/frontdesk/identity/password"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
)

// busyHasher reports password.ErrBusy, as a bounded password.Hasher at
// capacity does, while busy is set.
type busyHasher struct {
	account.PasswordHasher
	busy atomic.Bool
}

func (h *busyHasher) Verify(ctx context.Context, encoded, pw string) (bool, bool, error) {
	if h.busy.Load() {
		return false, false, fmt.Errorf("test: %w", password.ErrBusy)
	}
	return h.PasswordHasher.Verify(ctx, encoded, pw)
}

func (h *busyHasher) VerifyDummyErr(ctx context.Context, pw string) error {
	if h.busy.Load() {
		return fmt.Errorf("test: %w", password.ErrBusy)
	}
	h.PasswordHasher.VerifyDummy(ctx, pw)
	return nil
}

// A login beyond the hashing capacity is answered 503 with Retry-After, for
// a real account and an unknown address alike, and works again once there
// is capacity.
func TestLoginBeyondHashCapacityIs503(t *testing.T) {
	srv := newTestServer(t)
	h := &busyHasher{}
	st := storetest.Open(t, store.SQLite)
	env := accounttest.New(t, st, accounttest.Options{PublicURL: srv.URL,
		WrapHasher: func(inner account.PasswordHasher) account.PasswordHasher { h.PasswordHasher = inner; return h }})
	srv.serve(t, httpserver.Deps{
		Accounts: env.Service, Onboarding: env.Onboard, DB: env.Store, Registry: env.Registry})
	seedOwnerWith(t, env)
	s := &site{t: t, srv: srv.Server, env: env, client: newBrowser(t, srv.Server)}
	tests := []struct {
		name, email string
		busy        bool
		want        int
	}{
		{"known account, busy", "olive@example.org", true, http.StatusServiceUnavailable},
		{"unknown address, busy", "nobody@example.org", true, http.StatusServiceUnavailable},
		{"known account, capacity again", "olive@example.org", false, http.StatusSeeOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.busy.Store(tt.busy)
			r := s.post("/p/sunrise/login", url.Values{"email": {tt.email}, "password": {goodPassword}})
			if r.status != tt.want {
				t.Fatalf("status %d, want %d\n%s", r.status, tt.want, r.body)
			}
			if tt.busy {
				if secs, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || secs < 1 {
					t.Errorf("Retry-After = %q", r.header.Get("Retry-After"))
				}
			}
		})
	}
}
