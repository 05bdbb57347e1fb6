package adminapi_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/app"
	"github.com/frontdeskhq/frontdesk/identity/roles"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
)

// signedIn is one finished authorization-code login: the browser (with its
// session cookie), the token response, and the code and verifier it was
// redeemed with (to present them again).
type signedIn struct {
	browser  *http.Client
	cfg      *oauth2.Config
	tok      *oauth2.Token
	code     string
	verifier string
	// refreshed is an access token from a refresh grant of the same login
	// (set by refresh; tok.RefreshToken is then the rotated one).
	refreshed string
}

// refresh redeems the login's refresh token once.
func (s *signedIn) refresh(t testing.TB, ctx context.Context) {
	t.Helper()
	next, err := s.cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: s.tok.RefreshToken}).Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	s.refreshed, s.tok.RefreshToken = next.AccessToken, next.RefreshToken
}

// signIn runs the real authorization-code flow (PKCE, go-oidc + x/oauth2)
// as email in sunrise for the console client with offline_access.
func (h *harness) signIn(email string) *signedIn {
	h.t.Helper()
	return h.signInWith(h.Browser().Client, email)
}

// signInWith is signIn in the browser c, with extra authorization
// parameters.
func (h *harness) signInWith(c *http.Client, email string, extra ...oauth2.AuthCodeOption) *signedIn {
	h.t.Helper()
	cfg := &oauth2.Config{ClientID: "console", ClientSecret: consoleSecret, RedirectURL: consoleCB, Endpoint: h.rp.Endpoint(),
		Scopes: []string{gooidc.ScopeOpenID, gooidc.ScopeOfflineAccess}}
	g, err := h.CodeFlow(c, "sunrise", email, cfg, extra...)
	if err != nil {
		h.t.Fatalf("login flow for %s: %v", email, err)
	}
	if g.Token.RefreshToken == "" {
		h.t.Fatal("no refresh token for offline_access")
	}
	return &signedIn{browser: c, cfg: cfg, tok: g.Token, code: g.Code, verifier: g.Verifier}
}

// sessionToken is the browser's frontdesk session cookie.
func (s *signedIn) sessionToken(t testing.TB, base string) string {
	t.Helper()
	u, _ := url.Parse(base)
	for _, c := range s.browser.Jar.Cookies(u) {
		if strings.Contains(c.Name, "session") {
			return c.Value
		}
	}
	t.Fatal("the browser has no session cookie")
	return ""
}

// liveness is what the three places that take an access token answer for
// it at one frontdesk instance (base).
type liveness struct {
	admin    int  // GET /api/v1/practices/sunrise/roles
	userinfo int  // GET /oauth2/userinfo
	active   bool // POST /oauth2/introspect as the console client
}

func (l liveness) live() bool    { return l.admin == 200 && l.userinfo == 200 && l.active }
func (l liveness) refused() bool { return l.admin == 401 && l.userinfo == 401 && !l.active }

func probe(t *testing.T, hc *http.Client, base, at string) liveness {
	t.Helper()
	var l liveness
	do := func(req *http.Request) *http.Response {
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/practices/sunrise/roles", nil)
	req.Header.Set("Authorization", "Bearer "+at)
	resp := do(req)
	_ = resp.Body.Close()
	l.admin = resp.StatusCode
	req, _ = http.NewRequest(http.MethodGet, base+"/oauth2/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+at)
	resp = do(req)
	_ = resp.Body.Close()
	l.userinfo = resp.StatusCode
	req, _ = http.NewRequest(http.MethodPost, base+"/oauth2/introspect",
		strings.NewReader(url.Values{"token": {at}, "token_type_hint": {"access_token"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("console", consoleSecret)
	resp = do(req)
	var in struct {
		Active bool `json:"active"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&in); err != nil || resp.StatusCode != 200 {
		t.Fatalf("introspect: %d %v", resp.StatusCode, err)
	}
	_ = resp.Body.Close()
	l.active = in.Active
	return l
}

// revoke posts an RFC 7009 revocation as the console client.
func revoke(t *testing.T, hc *http.Client, base, token, hint string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/oauth2/revoke",
		strings.NewReader(url.Values{"token": {token}, "token_type_hint": {hint}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("console", consoleSecret)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
}

// logout posts the practice's logout form from the signed-in browser.
func logout(t *testing.T, s *signedIn, base string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/p/sunrise/logout", strings.NewReader(""))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	resp, err := s.browser.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode/100 != 3 && resp.StatusCode != 200 {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
}

// TestRevocationIsHonouredEverywhere is the class of findings F3 and F6:
// an access token that was revoked, whose browser session ended, whose
// member or emergency access ended, or whose code was presented again, is
// refused by the admin API, userinfo and introspection at once. Each member
// of the class runs with a fresh member; the owner's token, untouched, stays
// live throughout.
func TestRevocationIsHonouredEverywhere(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			h := newHarness(t, engine)
			ctx := context.Background()
			owner := h.signIn("owner@sunrise.example")
			ownerID := h.ids["owner@sunrise.example"]
			hc := h.srv.Client()
			for i, tc := range []struct {
				name string
				// before runs before the member signs in (nil: nothing).
				before func(t *testing.T, m member) string
				// end ends the token's life; state is what before returned.
				end func(t *testing.T, m member, s *signedIn, state string)
				// refreshedLives: the access token the login's refresh
				// token minted is not ended with it.
				refreshedLives bool
			}{
				{name: "RFC 7009 revocation of the access token (F3)", end: func(t *testing.T, _ member, s *signedIn, _ string) {
					revoke(t, hc, h.srv.URL, s.tok.AccessToken, "access_token")
				}, refreshedLives: true},
				{name: "RFC 7009 revocation of its refresh token", end: func(t *testing.T, _ member, s *signedIn, _ string) {
					revoke(t, hc, h.srv.URL, s.tok.RefreshToken, "refresh_token")
				}},
				{name: "logout of the browser session (F3)", end: func(t *testing.T, _ member, s *signedIn, _ string) {
					logout(t, s, h.srv.URL)
				}},
				{name: "member deactivated", end: func(t *testing.T, m member, _ *signedIn, _ string) {
					if _, err := h.app.Accounts.DeactivateMember(ctx, "sunrise", account.Actor{MemberID: ownerID}, m.id,
						account.Meta{}); err != nil {
						t.Fatal(err)
					}
				}},
				{name: "password changed in another session", end: func(t *testing.T, m member, s *signedIn, _ string) {
					other := h.signIn(m.email)
					pr, err := h.app.Accounts.Authenticate(ctx, "sunrise", other.sessionToken(t, h.srv.URL))
					if err != nil {
						t.Fatal(err)
					}
					const newPw = "an entirely different harbour at dawn"
					if err := h.app.Accounts.ChangePassword(ctx, pr, ownerPw, newPw, newPw, account.Meta{}); err != nil {
						t.Fatal(err)
					}
					// The session that changed the password keeps its token.
					if l := probe(t, hc, h.srv.URL, other.tok.AccessToken); !l.live() {
						t.Errorf("the changing session's own token: %+v, want live", l)
					}
					// The ended session's refresh token is revoked with it.
					if _, err := s.cfg.TokenSource(h.ctx, &oauth2.Token{RefreshToken: s.tok.RefreshToken}).Token(); err == nil {
						t.Error("the ended session's refresh token still works")
					}
				}},
				{name: "emergency access ended", before: func(t *testing.T, m member) string {
					e, err := h.app.Roles.GrantElevation(ctx, roles.Actor{PracticeID: h.sunrise.ID, MemberID: ownerID}, m.id,
						[]string{"clinical_notes.view:all"}, time.Hour, "Client in crisis; the clinician is unreachable", roles.Meta{})
					if err != nil {
						t.Fatal(err)
					}
					return e.ID
				}, end: func(t *testing.T, _ member, s *signedIn, elevationID string) {
					if c := jwtClaims(t, s.tok.AccessToken); c["elevated_until"] == nil {
						t.Fatalf("the token carries no emergency access: %v", c)
					}
					if err := h.app.Roles.EndElevation(ctx, roles.Actor{PracticeID: h.sunrise.ID, MemberID: ownerID}, elevationID,
						roles.Meta{}); err != nil {
						t.Fatal(err)
					}
				}},
				{name: "authorization code presented again (F6)", end: func(t *testing.T, _ member, s *signedIn, _ string) {
					if _, err := s.cfg.Exchange(h.ctx, s.code, oauth2.VerifierOption(s.verifier)); err == nil {
						t.Fatal("the code was redeemed twice")
					}
				}},
			} {
				t.Run(tc.name, func(t *testing.T) {
					email := fmt.Sprintf("m%d@sunrise.example", i)
					h.addMember("sunrise", email, "Member", []string{"administrator"})
					m := member{id: h.ids[email], email: email}
					var state string
					if tc.before != nil {
						state = tc.before(t, m)
					}
					s := h.signIn(email)
					s.refresh(t, h.ctx)
					// Warm the admin API's verification cache first: it must
					// not hide the end.
					for _, at := range []string{s.tok.AccessToken, s.refreshed} {
						if l := probe(t, hc, h.srv.URL, at); !l.live() {
							t.Fatalf("before: %+v, want live", l)
						}
					}
					tc.end(t, m, s, state)
					if l := probe(t, hc, h.srv.URL, s.tok.AccessToken); !l.refused() {
						t.Errorf("after: admin API %d, userinfo %d, introspection active=%v; want 401, 401, false",
							l.admin, l.userinfo, l.active)
					}
					switch l := probe(t, hc, h.srv.URL, s.refreshed); {
					case tc.refreshedLives && !l.live():
						t.Errorf("the refreshed token after: %+v, want live (only the revoked token ends)", l)
					case !tc.refreshedLives && !l.refused():
						t.Errorf("the refreshed token after: admin API %d, userinfo %d, introspection active=%v; want 401, 401, false",
							l.admin, l.userinfo, l.active)
					}
					if l := probe(t, hc, h.srv.URL, owner.tok.AccessToken); !l.live() {
						t.Errorf("the owner's untouched token: %+v, want live", l)
					}
				})
			}
		})
	}
}

// member is a test member.
type member struct{ id, email string }

// jwtClaims decodes a JWT's payload without verifying it.
func jwtClaims(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", tok)
	}
	var c map[string]any
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil || json.Unmarshal(raw, &c) != nil {
		t.Fatalf("JWT payload: %v", err)
	}
	return c
}

// TestRevocationAcrossReplicas: two frontdesk instances on one PostgreSQL
// database. A token revoked, or logged out, through one is refused by the
// other at once, though the other had just accepted (and cached) it.
func TestRevocationAcrossReplicas(t *testing.T) {
	h := newHarness(t, store.Postgres)
	cfgB := *h.cfg
	cfgB.Data.Dir = t.TempDir()
	b, err := app.New(context.Background(), &cfgB, app.NewLogger(cfgB.Log, io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	srvB := httptest.NewTLSServer(b.Handler)
	t.Cleanup(srvB.Close)
	hc := h.srv.Client()
	bc := srvB.Client()
	for _, tc := range []struct {
		name string
		end  func(t *testing.T, s *signedIn)
	}{
		{"RFC 7009 revocation at replica A", func(t *testing.T, s *signedIn) {
			revoke(t, hc, h.srv.URL, s.tok.AccessToken, "access_token")
		}},
		{"refresh token revoked at replica A", func(t *testing.T, s *signedIn) {
			revoke(t, hc, h.srv.URL, s.tok.RefreshToken, "refresh_token")
		}},
		{"logout at replica A", func(t *testing.T, s *signedIn) { logout(t, s, h.srv.URL) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := h.signIn("owner@sunrise.example")
			if l := probe(t, bc, srvB.URL, s.tok.AccessToken); !l.live() {
				t.Fatalf("replica B before: %+v, want live", l)
			}
			tc.end(t, s)
			if l := probe(t, bc, srvB.URL, s.tok.AccessToken); !l.refused() {
				t.Errorf("replica B after: admin API %d, userinfo %d, introspection active=%v; want 401, 401, false",
					l.admin, l.userinfo, l.active)
			}
		})
	}
}

// A new login in the same browser supersedes its session: the access tokens
// issued under the old session are refused, but its refresh token (offline
// access) keeps working, and what it mints is live.
func TestNewLoginSupersedesSessionNotOfflineAccess(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			h := newHarness(t, engine)
			hc := h.srv.Client()
			first := h.signIn("owner@sunrise.example")
			second := h.signInWith(first.browser, "owner@sunrise.example", oauth2.SetAuthURLParam("prompt", "login"))
			if l := probe(t, hc, h.srv.URL, second.tok.AccessToken); !l.live() {
				t.Fatalf("the new login's token: %+v", l)
			}
			if a, b := jwtClaims(t, first.tok.AccessToken)["sid"], jwtClaims(t, second.tok.AccessToken)["sid"]; a == b {
				t.Fatalf("the new login kept session %v", a)
			}
			if l := probe(t, hc, h.srv.URL, first.tok.AccessToken); !l.refused() {
				t.Errorf("the superseded session's token: %+v, want refused", l)
			}
			next, err := first.cfg.TokenSource(h.ctx, &oauth2.Token{RefreshToken: first.tok.RefreshToken}).Token()
			if err != nil {
				t.Fatalf("the superseded session's refresh token: %v", err)
			}
			if l := probe(t, hc, h.srv.URL, next.AccessToken); !l.live() {
				t.Errorf("a token refreshed after the session was superseded: %+v, want live", l)
			}
		})
	}
}
