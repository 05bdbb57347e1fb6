package sso_test

import (
	"crypto/rand"
	"database/sql"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/app"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
	"github.com/frontdeskhq/frontdesk/lockout"
	"github.com/frontdeskhq/frontdesk/lockout/lockouttest"
)

// getFrom requests raw as the client at addr, as the trusted proxy in front
// of the downstream reports it.
func (b *browser) getFrom(raw, addr string) (*http.Response, string) {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, raw, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("X-Forwarded-For", addr)
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	return resp, string(body)
}

// randomAddr is a fresh address in the IPv6 documentation block (its own
// /64), so runs sharing a Redis never share a count.
func randomAddr() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[0], b[1], b[2], b[3] = 0x20, 0x01, 0x0d, 0xb8
	return netip.AddrFrom16(b).String()
}

// TestSSOStartLimit assembles the downstream as `frontdesk serve` does, with
// lockout.start_limit 2 per hour, counted in the database (both engines) or
// in Redis: the third start from one address gets a 429 page with Retry-After
// and stores no flow, another address still starts, a flow begun before the
// limit still finishes and signs in, and the window resets.
func TestSSOStartLimit(t *testing.T) {
	// No machine is slow enough to see it end mid-test; the test ends it
	// (endWindow below) instead of waiting for it.
	const window = time.Hour
	for _, tc := range []struct {
		name   string
		engine store.Engine
		redis  bool
	}{
		{"sqlite", store.SQLite, false},
		{"postgres", store.Postgres, false},
		{"redis", store.SQLite, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.engine == store.Postgres {
				storetest.RequirePostgres(t)
			}
			w := newWorld(t, tc.engine)
			cfg := *w.down.cfg
			cfg.Lockout.StartLimit, cfg.Lockout.StartWindow = 2, window
			cfg.Server.TrustedProxies = []string{"127.0.0.0/8"}
			if tc.redis {
				lockouttest.RequireRedis(t)
				cfg.Redis.URL = lockouttest.RedisURL()
			}
			w.down.start(t, &cfg, nil)
			driver := "sqlite"
			if tc.engine == store.Postgres {
				driver = "pgx"
			}
			db, err := sql.Open(driver, w.downDSN)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			flows := func() int {
				var n int
				if err := db.QueryRowContext(w.ctx, `SELECT COUNT(*) FROM sso_flows`).Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}

			down := w.down.srv.URL
			attacker, neighbour := randomAddr(), randomAddr()
			token := w.invite(w.down, downSlug, "alice@clinic.example")
			b := w.browser()
			_, page := b.get(down + "/p/" + downSlug + "/invite?token=" + url.QueryEscape(token))
			inviteStart := down + link(t, page, "Accept with Clinic Workspace")
			loginStart := down + "/p/" + downSlug + "/sso/" + w.provider.ID + "/start?purpose=login"

			var upstream *url.URL
			other := w.browser()
			steps := []struct {
				name   string
				b      *browser
				url    string
				addr   string
				status int
			}{
				{"1st: invitation", b, inviteStart, attacker, http.StatusSeeOther},
				{"2nd: login", other, loginStart, attacker, http.StatusSeeOther},
				{"3rd: over the limit", other, loginStart, attacker, http.StatusTooManyRequests},
				{"another address", other, loginStart, neighbour, http.StatusSeeOther},
			}
			for _, st := range steps {
				before := flows()
				resp, body := st.b.getFrom(st.url, st.addr)
				if resp.StatusCode != st.status {
					t.Fatalf("%s: %d, want %d\n%s", st.name, resp.StatusCode, st.status, body)
				}
				if upstream == nil {
					upstream = location(t, resp)
				}
				if st.status != http.StatusTooManyRequests {
					continue
				}
				if got := flows(); got != before {
					t.Errorf("%s: %d flows stored by a refused start", st.name, got-before)
				}
				retry, err := strconv.Atoi(resp.Header.Get("Retry-After"))
				if err != nil || retry < 1 || time.Duration(retry)*time.Second > window+time.Second {
					t.Errorf("%s: Retry-After %q", st.name, resp.Header.Get("Retry-After"))
				}
				if !strings.Contains(body, "Too many sign-in attempts") || !strings.Contains(body, "Wait "+resp.Header.Get("Retry-After")+" seconds") {
					t.Errorf("%s: page does not say what to do:\n%s", st.name, body)
				}
			}

			// The flow begun first finishes: the callback is not a start.
			cb := w.upstreamLogin(b, upstream.String(), "alice@clinic.example")
			if resp, body := b.getFrom(cb.String(), attacker); resp.StatusCode != http.StatusSeeOther ||
				location(t, resp).Path != "/p/"+downSlug+"/" {
				t.Fatalf("callback after the limit: %d %s", resp.StatusCode, body)
			}
			if got := w.signedInAs(b); got != "alice@clinic.example" {
				t.Fatalf("signed in as %q", got)
			}

			// The next window starts again. The server runs on the real clock,
			// so the window is ended where it is kept, as its passing would:
			// the count's expiry moves back by window (database), or its time
			// to live shortens by window (Redis).
			key := lockout.StartKey(lockout.StartSSO, attacker)
			if tc.redis {
				lockouttest.Advance(t, lockouttest.RequireRedis(t), window, app.RedisKeyPrefix+key)
			} else {
				res, err := db.ExecContext(w.ctx, `UPDATE lockout_counters SET expires_at = expires_at - $1 WHERE counter_key = $2`,
					window.Microseconds(), key)
				if err != nil {
					t.Fatal(err)
				}
				if n, err := res.RowsAffected(); err != nil || n != 1 {
					t.Fatalf("the attacker's start count: %d rows (%v), want 1", n, err)
				}
			}
			if resp, body := other.getFrom(loginStart, attacker); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("start after the window: %d\n%s", resp.StatusCode, body)
			}
		})
	}
}
