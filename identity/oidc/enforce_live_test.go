package oidc_test

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/frontdeskhq/frontdesk/identity/enforce"
	"github.com/frontdeskhq/frontdesk/identity/store"
)

// appClock is a practice app's clock, moved by the test.
type appClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *appClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *appClock) add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// countingTransport counts the requests an app sends to frontdesk.
type countingTransport struct {
	rt http.RoundTripper
	mu sync.Mutex
	n  map[string]int // path → requests
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.n[r.URL.Path]++
	c.mu.Unlock()
	return c.rt.RoundTrip(r)
}

func (c *countingTransport) count(path string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[path]
}

// revokeAT revokes an access token at frontdesk (RFC 7009) as the ehr app.
func (e *env) revokeAT(t testing.TB, at string) {
	t.Helper()
	if st, _ := e.postForm("/oauth2/revoke", url.Values{"token": {at}, "token_type_hint": {"access_token"}}, "ehr", ehrSecret); st != 200 {
		t.Fatalf("revoke: %d", st)
	}
}

// The enforce opt-in against the real frontdesk: offline verification
// accepts a revoked token until exp (the documented window); with
// Introspection the app refuses it once its cached answer is CacheTTL old,
// and at once when the token was not yet cached.
func TestEnforceIntrospectionClosesTheWindow(t *testing.T) {
	for _, engine := range []store.Engine{store.SQLite, store.Postgres} {
		t.Run(string(engine), func(t *testing.T) {
			e := newEnv(t, engine)
			cfg := e.oauth("ehr", ehrSecret, ehrCB)
			signIn := func() string {
				code, verifier, _ := e.login(e.browser(), cfg)
				tok, err := cfg.Exchange(e.tokenCtx(), code, oauth2.VerifierOption(verifier))
				if err != nil {
					t.Fatal(err)
				}
				return tok.AccessToken
			}
			clock := &appClock{now: time.Now()}
			ct := &countingTransport{rt: e.srv.Client().Transport, n: map[string]int{}}
			hc := &http.Client{Transport: ct}
			offline, _ := enforce.New(enforce.Config{Issuer: e.srv.URL, Audience: "ehr", HTTPClient: hc, Now: clock.Now})
			const ttl = 10 * time.Second
			live, err := enforce.New(enforce.Config{Issuer: e.srv.URL, Audience: "ehr", HTTPClient: hc, Now: clock.Now,
				Introspection: &enforce.Introspection{ClientID: "ehr", ClientSecret: ehrSecret, CacheTTL: ttl}})
			if err != nil {
				t.Fatal(err)
			}

			at := signIn()
			for name, v := range map[string]*enforce.Verifier{"offline": offline, "introspection": live} {
				if _, err := v.Verify(e.ctx, at); err != nil {
					t.Fatalf("%s before revocation: %v", name, err)
				}
			}
			if n := ct.count("/oauth2/introspect"); n != 1 {
				t.Fatalf("introspection requests = %d, want 1", n)
			}
			e.revokeAT(t, at)
			// Offline: accepted until exp. Opt-in: accepted from the cache
			// for at most CacheTTL.
			if _, err := offline.Verify(e.ctx, at); err != nil {
				t.Errorf("offline verification after revocation: %v (the documented window)", err)
			}
			if _, err := live.Verify(e.ctx, at); err != nil {
				t.Errorf("within CacheTTL: %v, want the cached answer", err)
			}
			clock.add(ttl)
			if _, err := live.Verify(e.ctx, at); !errors.Is(err, enforce.ErrTokenRevoked) || !errors.Is(err, enforce.ErrInvalidToken) {
				t.Errorf("after CacheTTL: %v, want ErrTokenRevoked (an ErrInvalidToken)", err)
			}
			// Inactive is final: no more requests for this token.
			before := ct.count("/oauth2/introspect")
			clock.add(ttl)
			if _, err := live.Verify(e.ctx, at); !errors.Is(err, enforce.ErrTokenRevoked) || ct.count("/oauth2/introspect") != before {
				t.Errorf("again: %v, %d requests (want none)", err, ct.count("/oauth2/introspect")-before)
			}

			// A token revoked before the app first saw it is refused at once.
			at2 := signIn()
			e.revokeAT(t, at2)
			if _, err := live.Verify(e.ctx, at2); !errors.Is(err, enforce.ErrTokenRevoked) {
				t.Errorf("first sight of a revoked token: %v", err)
			}

			// frontdesk unreachable: the opt-in fails closed, Middleware 503.
			down, _ := enforce.New(enforce.Config{Issuer: e.srv.URL, Audience: "ehr", HTTPClient: hc, Now: clock.Now,
				Introspection: &enforce.Introspection{URL: e.srv.URL + "/nothing-here", ClientID: "ehr", ClientSecret: ehrSecret}})
			at3 := signIn()
			if _, err := down.Verify(e.ctx, at3); !errors.Is(err, enforce.ErrLivenessUnavailable) {
				t.Errorf("introspection unreachable: %v, want ErrLivenessUnavailable", err)
			}
			rec := &statusRecorder{header: http.Header{}}
			req, _ := http.NewRequest(http.MethodGet, "/x", nil)
			req.Header.Set("Authorization", "Bearer "+at3)
			down.Middleware(http.NotFoundHandler()).ServeHTTP(rec, req)
			if rec.status != http.StatusServiceUnavailable {
				t.Errorf("Middleware with introspection unreachable: %d, want 503", rec.status)
			}
			// Wrong app credentials are not a live answer either.
			wrong, _ := enforce.New(enforce.Config{Issuer: e.srv.URL, Audience: "ehr", HTTPClient: hc,
				Introspection: &enforce.Introspection{ClientID: "ehr", ClientSecret: "wrong"}})
			if _, err := wrong.Verify(e.ctx, at3); !errors.Is(err, enforce.ErrLivenessUnavailable) {
				t.Errorf("wrong client secret: %v, want ErrLivenessUnavailable", err)
			}
		})
	}
}

// statusRecorder is a minimal http.ResponseWriter.
type statusRecorder struct {
	header http.Header
	status int
	body   strings.Builder
}

func (r *statusRecorder) Header() http.Header { return r.header }
func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = 200
	}
	return r.body.Write(b)
}
func (r *statusRecorder) WriteHeader(s int) { r.status = s }

// BenchmarkEnforce measures what an app pays per request to verify a
// frontdesk access token: offline (the default; the verified token is
// remembered), with the introspection opt-in answering from its cache, and
// with a cache miss (a round trip to the real frontdesk over TLS loopback;
// the client's CPU and frontdesk's, both in this process).
func BenchmarkEnforce(b *testing.B) {
	e := newEnv(b, store.SQLite)
	cfg := e.oauth("ehr", ehrSecret, ehrCB)
	code, verifier, _ := e.login(e.browser(), cfg)
	tok, err := cfg.Exchange(e.tokenCtx(), code, oauth2.VerifierOption(verifier))
	if err != nil {
		b.Fatal(err)
	}
	hc := e.srv.Client()
	for _, bc := range []struct {
		name string
		in   *enforce.Introspection
	}{
		{"offline", nil},
		{"introspection-cache-hit", &enforce.Introspection{ClientID: "ehr", ClientSecret: ehrSecret, CacheTTL: 30 * time.Second}},
		{"introspection-cache-miss", &enforce.Introspection{ClientID: "ehr", ClientSecret: ehrSecret, CacheTTL: -1}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			v, err := enforce.New(enforce.Config{Issuer: e.srv.URL, Audience: "ehr", HTTPClient: hc, Introspection: bc.in})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := v.Verify(e.ctx, tok.AccessToken); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			done := reportCPU(b)
			for b.Loop() {
				if _, err := v.Verify(e.ctx, tok.AccessToken); err != nil {
					b.Fatal(err)
				}
			}
			done()
		})
	}
}
