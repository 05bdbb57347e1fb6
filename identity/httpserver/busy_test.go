package httpserver_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/account/accounttest"
	"github.com/frontdeskhq/frontdesk/identity/httpserver"
	"github.com/frontdeskhq/frontdesk/identity/password"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
	"github.com/frontdeskhq/frontdesk/templates"
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
	late := &lateHandler{}
	srv := httptest.NewTLSServer(late)
	t.Cleanup(srv.Close)
	h := &busyHasher{}
	st := storetest.Open(t, store.SQLite)
	env := accounttest.New(t, st, accounttest.Options{PublicURL: srv.URL,
		WrapHasher: func(inner account.PasswordHasher) account.PasswordHasher { h.PasswordHasher = inner; return h }})
	pages, err := templates.ParsePages()
	if err != nil {
		t.Fatal(err)
	}
	handler, err := httpserver.New(httpserver.Deps{
		Accounts: env.Service, Onboarding: env.Onboard, DB: env.Store, Pages: pages,
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		Registry: env.Registry, PublicURL: srv.URL, MaxBodyBytes: 64 << 10, SessionLifetime: 12 * time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	late.mu.Lock()
	late.h = handler
	late.mu.Unlock()
	ctx := context.Background()
	created, err := env.Service.CreatePractice(ctx, account.NewPractice{Slug: "sunrise", Name: "Sunrise Therapy",
		OwnerEmail: "olive@example.org"}, account.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	hash, err := password.NewHasher(accounttest.FastParams, 1).Hash(ctx, goodPassword)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SetPassword(ctx, created.OwnerID, hash, env.Clock.Now(), true); err != nil {
		t.Fatal(err)
	}
	s := &site{t: t, srv: srv, env: env, client: newBrowser(t, srv)}
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
