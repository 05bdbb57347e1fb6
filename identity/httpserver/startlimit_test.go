package httpserver_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/account/accounttest"
	"github.com/frontdeskhq/frontdesk/identity/httpserver"
	"github.com/frontdeskhq/frontdesk/identity/passkeys/passkeystest"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
	"github.com/frontdeskhq/frontdesk/lockout"
	"github.com/frontdeskhq/frontdesk/lockout/lockouttest"
)

// limitedSite is a passkey site whose starts pass a StartLimiter, behind a
// trusted proxy (the test client, 127.0.0.1) that names the client address
// in X-Forwarded-For; db reads the tables directly.
type limitedSite struct {
	*site
	db *sql.DB
}

func newLimitedPasskeySite(t *testing.T, engine store.Engine, counter func(st *store.Store, now func() time.Time) lockout.Counter,
	set lockout.StartSettings) *limitedSite {
	t.Helper()
	_, dsn := storetest.DSN(t, engine)
	ctx := context.Background()
	st, err := store.Open(ctx, engine, dsn, store.Options{MaxOpenConns: 8})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if err := st.Migrate(ctx, nil); err != nil {
		t.Fatal(err)
	}
	driver := "sqlite"
	if engine == store.Postgres {
		driver = "pgx"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })

	srv := newTestServer(t)
	env := accounttest.New(t, st, accounttest.Options{PublicURL: srv.URL})
	pk := passkeystest.NewService(t, env.Store, env.Service, env.Clock.Now)
	srv.serve(t, httpserver.Deps{
		Accounts: env.Service, Onboarding: env.Onboard, DB: env.Store, Registry: env.Registry, Passkeys: pk, TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
		StartLimiter: lockout.NewStartLimiter(counter(st, env.Clock.Now), set)})
	created, err := env.Service.CreatePractice(ctx, account.NewPractice{Slug: "sunrise",
		Name: "Sunrise Therapy", OwnerEmail: "olive@example.org", OwnerName: "Olive Owner"}, account.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	return &limitedSite{site: &site{t: t, srv: srv.Server, env: env, client: newBrowser(t, srv.Server), setup: created.SetupURL}, db: db}
}

func (s *limitedSite) ceremonies() int {
	s.t.Helper()
	var n int
	if err := s.db.QueryRow(`SELECT COUNT(*) FROM passkey_ceremonies`).Scan(&n); err != nil {
		s.t.Fatal(err)
	}
	return n
}

// beginFrom begins a passkey login from client address addr.
func (s *limitedSite) beginFrom(c *http.Client, addr string) (int, map[string]json.RawMessage, http.Header) {
	s.t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.srv.URL+"/p/sunrise/passkeys/login/begin", strings.NewReader(`{}`))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", s.srv.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("X-Forwarded-For", addr)
	res, err := c.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer func() { _ = res.Body.Close() }()
	var out map[string]json.RawMessage
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		s.t.Fatalf("begin: %d, not JSON: %v", res.StatusCode, err)
	}
	return res.StatusCode, out, res.Header
}

// TestPasskeyStartLimit: with a limit of 3 starts per address, the 4th login
// begin from one address gets 429 with Retry-After and stores no ceremony,
// another address still begins, a ceremony begun before the limit still
// finishes, registration begins are counted apart, and the window resets.
func TestPasskeyStartLimit(t *testing.T) {
	const limit = 3
	type backend struct {
		name    string
		engine  store.Engine
		window  time.Duration
		counter func(t *testing.T, st func() time.Time) lockout.Counter
		advance func(s *limitedSite, d time.Duration)
	}
	sqlCounter := func(engine store.Engine) backend {
		return backend{name: string(engine), engine: engine, window: time.Minute,
			advance: func(s *limitedSite, d time.Duration) { s.env.Clock.Advance(d) }}
	}
	// On Redis the window ends when advance shortens the keys' time to live
	// (lockouttest.CounterAdvance), never on the real clock.
	var redisAdvance func(time.Duration)
	backends := []backend{sqlCounter(store.SQLite), sqlCounter(store.Postgres),
		{name: "redis", engine: store.SQLite, window: time.Minute,
			counter: func(t *testing.T, _ func() time.Time) lockout.Counter {
				c, advance := lockouttest.CounterAdvance(t)
				redisAdvance = advance
				return c
			},
			advance: func(_ *limitedSite, d time.Duration) { redisAdvance(d) }}}
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			s := newLimitedPasskeySite(t, be.engine, func(st *store.Store, now func() time.Time) lockout.Counter {
				if be.counter != nil {
					return be.counter(t, now)
				}
				return lockout.NewSQLCounter(st, now)
			}, lockout.StartSettings{Limit: limit, Window: be.window})
			s.activate()
			a := passkeystest.New(pkOrigin, pkRPID)
			if status, out := s.enrol(s.client, a, "Laptop"); status != http.StatusOK {
				t.Fatalf("enrol: %d %v", status, out)
			}
			const attacker, neighbour = "203.0.113.66", "198.51.100.7"
			b := newBrowser(t, s.srv)
			var first map[string]json.RawMessage
			steps := []struct {
				name   string
				addr   string
				status int
			}{
				{"1st", attacker, http.StatusOK},
				{"2nd", attacker, http.StatusOK},
				{"3rd", attacker, http.StatusOK},
				{"4th over the limit", attacker, http.StatusTooManyRequests},
				{"same /64 as IPv4-mapped", "::ffff:" + attacker, http.StatusTooManyRequests},
				{"another address", neighbour, http.StatusOK},
			}
			for _, st := range steps {
				before := s.ceremonies()
				status, out, hdr := s.beginFrom(b, st.addr)
				if status != st.status {
					t.Fatalf("%s: %d %v, want %d", st.name, status, out, st.status)
				}
				if first == nil {
					first = out
				}
				if status == http.StatusTooManyRequests {
					if got := s.ceremonies(); got != before {
						t.Errorf("%s: %d ceremonies stored by a refused start", st.name, got-before)
					}
					retry, err := strconv.Atoi(hdr.Get("Retry-After"))
					if err != nil || retry < 1 || time.Duration(retry)*time.Second > be.window+time.Second {
						t.Errorf("%s: Retry-After %q", st.name, hdr.Get("Retry-After"))
					}
					if str(out, "error") != "too_many_starts" || !strings.Contains(str(out, "message"), "Wait "+hdr.Get("Retry-After")+" seconds") {
						t.Errorf("%s: body %v", st.name, out)
					}
				}
			}
			// Finishing the first ceremony is not a start: it succeeds.
			status, out := s.postJSON(b, "/p/sunrise/passkeys/login/finish?ceremony="+url.QueryEscape(str(first, "ceremony")),
				a.Get(first["options"]), map[string]string{"X-Forwarded-For": attacker})
			if status != http.StatusOK || str(out, "redirect") != "/p/sunrise/" {
				t.Fatalf("finish after the limit: %d %v", status, out)
			}
			// Registration begins count apart: the owner's browser
			// (127.0.0.1) used one; two more, then 429.
			for i, want := range []int{http.StatusOK, http.StatusOK, http.StatusTooManyRequests} {
				status, out := s.postJSON(s.client, "/p/sunrise/passkeys/register/begin", []byte(`{}`), nil)
				if status != want {
					t.Fatalf("register begin %d: %d %v, want %d", i+2, status, out, want)
				}
			}
			// A new window lets the attacker begin again.
			be.advance(s, be.window+200*time.Millisecond)
			if status, out, _ := s.beginFrom(b, attacker); status != http.StatusOK {
				t.Fatalf("begin after the window: %d %v", status, out)
			}
		})
	}
}

// TestPasskeyStartCounterDown: when the start counter cannot be reached,
// starts are refused with 503 and Retry-After, and nothing is stored.
func TestPasskeyStartCounterDown(t *testing.T) {
	srv := lockouttest.StartServer(t)
	c := lockout.NewRedisCounter(srv.Client(), "frontdesk:lockout:")
	s := newLimitedPasskeySite(t, store.SQLite, func(*store.Store, func() time.Time) lockout.Counter { return c },
		lockout.StartSettings{Limit: 5, Window: time.Minute})
	b := newBrowser(t, s.srv)
	if status, out, _ := s.beginFrom(b, "203.0.113.66"); status != http.StatusOK {
		t.Fatalf("begin with Redis up: %d %v", status, out)
	}
	srv.Stop()
	status, out, hdr := s.beginFrom(b, "203.0.113.66")
	if status != http.StatusServiceUnavailable || hdr.Get("Retry-After") == "" || str(out, "error") != "unavailable" {
		t.Fatalf("begin with Redis down: %d %v %q", status, out, hdr.Get("Retry-After"))
	}
	if n := s.ceremonies(); n != 1 {
		t.Errorf("%d ceremonies stored, want 1", n)
	}
}
