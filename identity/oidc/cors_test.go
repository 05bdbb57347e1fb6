package oidc_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/frontdeskhq/frontdesk/identity/account"
	fdoidc "github.com/frontdeskhq/frontdesk/identity/oidc"
	"github.com/frontdeskhq/frontdesk/identity/store"
)

// F7 (class): no OpenID endpoint answers a foreign origin with credentials
// allowed. Discovery and the key set may be read from any origin without
// credentials; token, userinfo and revocation allow only the origins of
// public clients (configured "spa", a registered public app), without
// credentials; every other endpoint sends no CORS headers. Each endpoint is
// tried with a simple request and a preflight, from each kind of origin.
func TestCORSPolicy(t *testing.T) {
	e := newEnv(t, store.SQLite)
	p, err := e.store.PracticeBySlug(e.ctx, "sunrise")
	if err != nil {
		t.Fatal(err)
	}
	// Ask once before the app exists: registering it takes effect at once.
	const regOrigin = "https://registered-spa.example"
	probe := func(method, path, origin string, preflight bool) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(method, e.srv.URL+path, nil)
		if preflight {
			req.Method = http.MethodOptions
			req.Header.Set("Access-Control-Request-Method", method)
			req.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
		}
		req.Header.Set("Origin", origin)
		resp, err := e.browser().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		return resp
	}
	if got := probe("POST", "/oauth2/token", regOrigin, true).Header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Fatalf("an unregistered origin was allowed: %q", got)
	}
	if _, _, err := e.provider.RegisterApp(e.ctx, p.ID, e.ownerID, fdoidc.AppRequest{Name: "Browser app",
		RedirectURIs: []string{regOrigin + "/cb"}}, account.Meta{}); err != nil {
		t.Fatal(err)
	}

	const (
		public = iota // Access-Control-Allow-Origin: *
		client        // the origin itself, for public clients' origins only
		none          // no CORS headers
	)
	endpoints := []struct {
		method, path string
		policy       int
	}{
		{"GET", "/.well-known/openid-configuration", public},
		{"GET", "/oauth2/keys", public},
		{"POST", "/oauth2/token", client},
		{"GET", "/oauth2/userinfo", client},
		{"POST", "/oauth2/userinfo", client},
		{"POST", "/oauth2/revoke", client},
		{"GET", "/oauth2/authorize", none},
		{"GET", "/oauth2/authorize/callback", none},
		{"GET", "/oauth2/end_session", none},
		{"POST", "/oauth2/end_session", none},
		{"POST", "/oauth2/introspect", none},
	}
	origins := []struct {
		origin       string
		publicClient bool
	}{
		{"https://evil.test", false},
		{"null", false},
		{"https://ehr.example", false}, // a confidential client's origin
		{"https://spa.example", true},  // the configured public client
		{"https://SPA.example", true},  // origins compare case-insensitively
		{"https://spa.example:8443", false},
		{"http://spa.example", false},
		{regOrigin, true},  // a registered public app
		{e.srv.URL, false}, // frontdesk itself is no exception
	}
	for _, ep := range endpoints {
		for _, o := range origins {
			for _, preflight := range []bool{false, true} {
				resp := probe(ep.method, ep.path, o.origin, preflight)
				h := resp.Header
				name := ep.method + " " + ep.path + " from " + o.origin
				if preflight {
					name += " (preflight)"
				}
				if v := h.Get("Access-Control-Allow-Credentials"); v != "" {
					t.Errorf("%s: Access-Control-Allow-Credentials: %s", name, v)
				}
				acao := h.Get("Access-Control-Allow-Origin")
				var want string
				switch {
				case ep.policy == public:
					want = "*"
				case ep.policy == client && o.publicClient:
					want = o.origin
				}
				if acao != want {
					t.Errorf("%s: Access-Control-Allow-Origin %q, want %q", name, acao, want)
				}
				if ep.policy == none {
					for k := range h {
						if strings.HasPrefix(k, "Access-Control-") {
							t.Errorf("%s: sends %s", name, k)
						}
					}
				}
				if preflight && want != "" && ep.policy == client &&
					!strings.Contains(h.Get("Access-Control-Allow-Methods"), ep.method) {
					t.Errorf("%s: Access-Control-Allow-Methods %q lacks %s", name, h.Get("Access-Control-Allow-Methods"), ep.method)
				}
			}
		}
	}
}
