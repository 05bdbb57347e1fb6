package oidc_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/account/accounttest"
	"github.com/frontdeskhq/frontdesk/identity/httpserver"
	fdoidc "github.com/frontdeskhq/frontdesk/identity/oidc"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
	"github.com/frontdeskhq/frontdesk/templates"
)

const (
	ownerEmail = "olive@example.org"
	ownerPw    = "plum velvet orbit canyon 42 kettle"
	ehrSecret  = "ehr-secret-0123456789abcdefghijklmnopqrstuvwxyz"
	ehrCB      = "https://ehr.example/callback"
	collectCB  = "https://collect.example/cb"
	spaCB      = "https://spa.example/cb"
	basicCB    = "https://basic.example/cb"
)

type lateHandler struct {
	mu sync.RWMutex
	h  http.Handler
}

func (l *lateHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	l.mu.RLock()
	h := l.h
	l.mu.RUnlock()
	h.ServeHTTP(w, r)
}

// env is frontdesk's full handler over TLS with one practice whose owner
// has a password, and three registered apps.
type env struct {
	t        testing.TB
	srv      *httptest.Server
	acc      *accounttest.Env
	provider *fdoidc.Provider
	ctx      context.Context // carries the TLS client for go-oidc and oauth2
	rp       *gooidc.Provider
	perms    *permTable
	ownerID  string
	handler  http.Handler
	store    *store.Store
	logouts  *logoutSink
	late     *lateHandler // lets a test serve another handler at the same address
}

// logoutSink is an app's back-channel logout endpoint.
type logoutSink struct {
	srv    *httptest.Server
	mu     sync.Mutex
	tokens []string
}

func (l *logoutSink) received() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.tokens)
}

// permTable is a settable claims source standing in for the role model.
type permTable struct {
	mu       sync.Mutex
	perms    map[string][]string
	elevated time.Time
	st       *store.Store
}

func (p *permTable) Effective(ctx context.Context, practiceID, memberID string) (fdoidc.Effective, error) {
	m, err := p.st.MemberByID(ctx, practiceID, memberID)
	if err != nil {
		return fdoidc.Effective{}, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return fdoidc.Effective{Roles: m.Roles, Permissions: p.perms[memberID], Supervisors: []string{"sup-1"},
		ElevatedUntil: p.elevated}, nil
}

func (p *permTable) set(memberID string, perms ...string) {
	p.mu.Lock()
	p.perms[memberID] = perms
	p.mu.Unlock()
}

func newEnv(t testing.TB, engine store.Engine) *env {
	t.Helper()
	return newEnvClock(t, engine, accounttest.NewClock(time.Now()))
}

// newEnvClock builds an env whose accounts and provider share clock (the
// library's own expiry checks and go-oidc use the real time).
func newEnvClock(t testing.TB, engine store.Engine, clock *accounttest.Clock) *env {
	t.Helper()
	return newEnvDeps(t, engine, clock, nil)
}

// newEnvDeps builds an env whose provider dependencies tweak adjusts first.
func newEnvDeps(t testing.TB, engine store.Engine, clock *accounttest.Clock, tweak func(*fdoidc.Deps)) *env {
	t.Helper()
	late := &lateHandler{}
	srv := httptest.NewTLSServer(late)
	t.Cleanup(srv.Close)
	sink := &logoutSink{}
	sink.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sink.mu.Lock()
		sink.tokens = append(sink.tokens, r.PostFormValue("logout_token"))
		sink.mu.Unlock()
	}))
	t.Cleanup(sink.srv.Close)
	st := storetest.Open(t, engine)
	acc := accounttest.New(t, st, accounttest.Options{PublicURL: srv.URL, Clock: clock})
	pages, err := templates.ParsePages()
	if err != nil {
		t.Fatal(err)
	}
	perms := &permTable{perms: map[string][]string{}, st: st}
	master := make([]byte, fdoidc.MasterKeySize)
	_, _ = rand.Read(master)
	ctx := context.Background()
	deps := fdoidc.Deps{Store: st, Accounts: acc.Service, Claims: perms, Now: clock.Now}
	if tweak != nil {
		tweak(&deps)
	}
	provider, err := fdoidc.New(ctx, deps,
		fdoidc.Settings{Issuer: srv.URL, MasterKey: master, AccessTokenTTL: 5 * time.Minute, IDTokenTTL: time.Hour,
			RefreshTokenTTL: 720 * time.Hour, CodeTTL: time.Minute, AuthRequestTTL: 10 * time.Minute,
			SessionCookie: httpserver.SessionCookie,
			Clients: []fdoidc.ClientConfig{
				{ID: "ehr", Secret: ehrSecret, RedirectURIs: []string{ehrCB},
					PostLogoutRedirectURIs: []string{"https://ehr.example/bye"},
					BackchannelLogoutURI:   sink.srv.URL + "/backchannel",
					GrantTypes:             []string{"authorization_code", "refresh_token", "client_credentials"},
					Scopes:                 []string{"openid", "profile", "email", "offline_access", "practitioner", "schedule.read", "roles"}},
				{ID: "collect", Secret: ehrSecret, RedirectURIs: []string{collectCB}, Practice: "sunrise",
					RequirePermission: "app.datacollection.login", SigningAlg: "RS256"},
				{ID: "spa", RedirectURIs: []string{spaCB}},
				{ID: "brief", Secret: ehrSecret, RedirectURIs: []string{ehrCB}, AccessTokenTTL: time.Second},
				// The OpenID Foundation's Basic OP plan sends no PKCE
				// (conformance_test.go).
				{ID: "basic", Secret: ehrSecret, RedirectURIs: []string{basicCB}, PKCEOptional: true},
				{ID: "inverse", Secret: ehrSecret, RedirectURIs: []string{ehrCB}, IDTokenAlg: "ES256", AccessTokenAlg: "RS256"},
				{ID: "ecdsa", Secret: ehrSecret, RedirectURIs: []string{ehrCB}, IDTokenAlg: "ES256"},
			}})
	if err != nil {
		t.Fatal(err)
	}
	h, err := httpserver.New(httpserver.Deps{Accounts: acc.Service, Onboarding: acc.Onboard, DB: st, Pages: pages,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Registry: acc.Registry, PublicURL: srv.URL,
		MaxBodyBytes: 64 << 10, SessionLifetime: 12 * time.Hour, OIDC: provider})
	if err != nil {
		t.Fatal(err)
	}
	late.mu.Lock()
	late.h = h
	late.mu.Unlock()
	created, err := acc.Service.CreatePractice(ctx, account.NewPractice{Slug: "sunrise", Name: "Sunrise Therapy",
		OwnerEmail: ownerEmail, OwnerName: "Olive Owner"}, account.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(created.SetupURL)
	if _, _, err := acc.Service.CompleteSetup(ctx, "sunrise", u.Query().Get("token"), ownerPw, ownerPw, account.Meta{}); err != nil {
		t.Fatal(err)
	}
	ctx = gooidc.ClientContext(ctx, srv.Client())
	rp, err := gooidc.NewProvider(ctx, srv.URL)
	if err != nil {
		t.Fatalf("discovery with go-oidc: %v", err)
	}
	return &env{t: t, srv: srv, acc: acc, provider: provider, ctx: ctx, rp: rp, perms: perms, ownerID: created.OwnerID,
		handler: h, store: st, logouts: sink, late: late}
}

func (e *env) browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	c := *e.srv.Client()
	c.Jar = jar
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

func (e *env) oauth(clientID, secret, redirect string, scopes ...string) *oauth2.Config {
	return &oauth2.Config{ClientID: clientID, ClientSecret: secret, RedirectURL: redirect, Endpoint: e.rp.Endpoint(),
		Scopes: append([]string{gooidc.ScopeOpenID}, scopes...)}
}

func (e *env) get(c *http.Client, raw string) *http.Response {
	e.t.Helper()
	resp, err := c.Get(e.abs(raw))
	if err != nil {
		e.t.Fatal(err)
	}
	return resp
}

func (e *env) abs(raw string) string {
	if strings.HasPrefix(raw, "/") {
		return e.srv.URL + raw
	}
	return raw
}

func readBody(resp *http.Response) string {
	b, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	return string(b)
}

var hiddenAuthRequest = regexp.MustCompile(`name="authRequest" value="([^"]+)"`)

// postLogin submits the practice login form the way a browser does.
func (e *env) postLogin(c *http.Client, authRequest, email, pw string) *http.Response {
	e.t.Helper()
	form := url.Values{"email": {email}, "password": {pw}, "authRequest": {authRequest}}
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/p/sunrise/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", e.srv.URL)
	resp, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp
}

// flow runs the browser part of the code flow and returns the final redirect
// to the app (or the first response that is not a redirect within frontdesk).
func (e *env) flow(c *http.Client, authURL string) (*url.URL, *http.Response) {
	e.t.Helper()
	return e.follow(c, e.get(c, authURL))
}

// follow continues the browser part of the code flow from resp.
func (e *env) follow(c *http.Client, resp *http.Response) (*url.URL, *http.Response) {
	e.t.Helper()
	for range 6 {
		if resp.StatusCode/100 != 3 {
			return nil, resp
		}
		_ = resp.Body.Close()
		loc, err := resp.Location()
		if err != nil {
			e.t.Fatal(err)
		}
		if !strings.HasPrefix(loc.String(), e.srv.URL) {
			return loc, resp
		}
		if loc.Path == "/p/sunrise/login" {
			page := e.get(c, loc.String())
			body := readBody(page)
			m := hiddenAuthRequest.FindStringSubmatch(body)
			if page.StatusCode != http.StatusOK || m == nil {
				if page.StatusCode/100 == 3 {
					resp = page
					continue
				}
				e.t.Fatalf("login page: %d %s", page.StatusCode, body)
			}
			resp = e.postLogin(c, m[1], ownerEmail, ownerPw)
			continue
		}
		resp = e.get(c, loc.String())
	}
	e.t.Fatal("too many redirects")
	return nil, nil
}

func (e *env) login(c *http.Client, cfg *oauth2.Config, extra ...oauth2.AuthCodeOption) (code, verifier, nonce string) {
	e.t.Helper()
	verifier, nonce = oauth2.GenerateVerifier(), oauth2.GenerateVerifier()
	opts := append([]oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier), gooidc.Nonce(nonce),
		oauth2.SetAuthURLParam("practice", "sunrise")}, extra...)
	loc, resp := e.flow(c, cfg.AuthCodeURL("st4te", opts...))
	if loc == nil {
		e.t.Fatalf("flow ended at %d: %s", resp.StatusCode, readBody(resp))
	}
	q := loc.Query()
	if q.Get("error") != "" || q.Get("state") != "st4te" || q.Get("iss") != e.srv.URL || q.Get("code") == "" {
		e.t.Fatalf("authorization response %s", loc)
	}
	return q.Get("code"), verifier, nonce
}

func jwtHeader(t *testing.T, tok string) jose.Header {
	t.Helper()
	jws, err := jose.ParseSigned(tok, []jose.SignatureAlgorithm{jose.ES256, jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	return jws.Signatures[0].Header
}

func jwtClaims(t *testing.T, tok string) map[string]any {
	t.Helper()
	jws, err := jose.ParseSigned(tok, []jose.SignatureAlgorithm{jose.ES256, jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func (e *env) postForm(path string, form url.Values, user, pass string) (int, map[string]any) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(pass))
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	body := readBody(resp)
	var m map[string]any
	_ = json.Unmarshal([]byte(body), &m)
	return resp.StatusCode, m
}

func TestDiscoveryAdvertisesOnlyWhatIsOffered(t *testing.T) {
	e := newEnv(t, store.SQLite)
	var d map[string]any
	if err := e.rp.Claims(&d); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"issuer":                                         e.srv.URL,
		"response_types_supported":                       []any{"code"},
		"code_challenge_methods_supported":               []any{"S256"},
		"grant_types_supported":                          []any{"authorization_code", "refresh_token", "client_credentials"},
		"id_token_signing_alg_values_supported":          []any{"ES256", "RS256"},
		"authorization_response_iss_parameter_supported": true,
	}
	for k, v := range want {
		got, _ := json.Marshal(d[k])
		exp, _ := json.Marshal(v)
		if string(got) != string(exp) {
			t.Errorf("discovery %s = %s, want %s", k, got, exp)
		}
	}
	for _, k := range []string{"device_authorization_endpoint", "check_session_iframe"} {
		if _, ok := d[k]; ok {
			t.Errorf("discovery advertises %s", k)
		}
	}
	raw, _ := json.Marshal(d)
	for k, v := range d {
		if strings.Contains(k, "alg_values") {
			if l, _ := json.Marshal(v); strings.Contains(strings.ToLower(string(l)), `"none"`) || strings.Contains(string(l), "HS") {
				t.Errorf("discovery %s offers %s", k, l)
			}
		}
	}
	for _, bad := range []string{"implicit", "password", "device_code", "token id_token", "plain", "jwt-bearer", "token-exchange"} {
		if strings.Contains(string(raw), bad) {
			t.Errorf("discovery mentions %s: %s", bad, raw)
		}
	}
	var jwks jose.JSONWebKeySet
	resp := e.get(e.srv.Client(), "/oauth2/keys")
	if err := json.NewDecoder(resp.Body).Decode(&jwks); err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if len(jwks.Keys) != 2 {
		t.Fatalf("JWKS has %d keys, want ES256 and RS256", len(jwks.Keys))
	}
	for _, k := range jwks.Keys {
		if !k.IsPublic() || k.Use != "sig" || k.KeyID == "" {
			t.Errorf("published key %+v is not a public signing key", k)
		}
	}
}

func TestCodeFlowWithRealClients(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			e := newEnv(t, engine)
			ctx := context.WithValue(e.ctx, oauth2.HTTPClient, e.srv.Client())
			cfg := e.oauth("ehr", ehrSecret, ehrCB, "profile", "email", "offline_access", "practitioner", "roles")
			e.perms.set(e.ownerID, "clients.read:all", "notes.write:own")
			browser := e.browser()
			code, verifier, nonce := e.login(browser, cfg, oauth2.SetAuthURLParam("login_hint", ownerEmail))
			tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
			if err != nil {
				t.Fatalf("exchange: %v", err)
			}
			rawID, _ := tok.Extra("id_token").(string)
			idt, err := e.rp.Verifier(&gooidc.Config{ClientID: "ehr"}).Verify(ctx, rawID)
			if err != nil {
				t.Fatalf("ID token verification: %v", err)
			}
			if idt.Nonce != nonce {
				t.Errorf("nonce = %q, want %q", idt.Nonce, nonce)
			}
			var c struct {
				Email         string   `json:"email"`
				EmailVerified bool     `json:"email_verified"`
				Name          string   `json:"name"`
				Practice      string   `json:"practice"`
				PracticeID    string   `json:"practice_id"`
				Roles         []string `json:"roles"`
				Permissions   []string `json:"permissions"`
				AMR           []string `json:"amr"`
				AuthTime      int64    `json:"auth_time"`
				SID           string   `json:"sid"`
				LegalName     *string  `json:"legal_name"`
				NPI           *string  `json:"npi"`
				Supervisors   []string `json:"supervisors"`
			}
			if err := idt.Claims(&c); err != nil {
				t.Fatal(err)
			}
			// Profile and email claims come from userinfo (OIDC Core 5.4).
			if c.Email != "" || c.EmailVerified || c.Name != "" || c.Practice != "sunrise" ||
				c.PracticeID == "" || !slices.Contains(c.Roles, "owner") || !slices.Contains(c.Permissions, "clients.read:all") ||
				!slices.Equal(c.AMR, []string{"pwd"}) || c.AuthTime == 0 || c.SID == "" || c.LegalName == nil ||
				c.NPI == nil || !slices.Equal(c.Supervisors, []string{"sup-1"}) || idt.Subject != e.ownerID {
				t.Errorf("ID token claims = %+v (sub %s)", c, idt.Subject)
			}
			if h := jwtHeader(t, rawID); h.Algorithm != "RS256" {
				t.Errorf("ID token alg = %s, want RS256 (the OpenID Connect default)", h.Algorithm)
			}
			if h := jwtHeader(t, tok.AccessToken); h.Algorithm != "ES256" {
				t.Errorf("access token alg = %s, want ES256", h.Algorithm)
			}

			// The access token is an RFC 9068 JWT.
			if h := jwtHeader(t, tok.AccessToken); h.ExtraHeaders[jose.HeaderType] != "at+jwt" || h.KeyID == "" {
				t.Errorf("access token header = %+v, want typ at+jwt", h)
			}
			at := jwtClaims(t, tok.AccessToken)
			for _, k := range []string{"iss", "sub", "aud", "exp", "iat", "jti", "client_id", "scope", "practice",
				"practice_id", "roles", "permissions", "amr", "auth_time", "sid"} {
				if _, ok := at[k]; !ok {
					t.Errorf("access token lacks %s: %v", k, at)
				}
			}
			if at["iss"] != e.srv.URL || at["client_id"] != "ehr" || at["sub"] != e.ownerID || at["practice"] != "sunrise" {
				t.Errorf("access token claims = %v", at)
			}
			if exp, iat := at["exp"].(float64), at["iat"].(float64); exp-iat != 300 {
				t.Errorf("access token lifetime = %vs, want 300", exp-iat)
			}

			// Userinfo with the access token.
			ui, err := e.rp.UserInfo(ctx, oauth2.StaticTokenSource(tok))
			if err != nil {
				t.Fatalf("userinfo: %v", err)
			}
			var uc map[string]any
			_ = ui.Claims(&uc)
			if ui.Subject != e.ownerID || ui.Email != ownerEmail || uc["practice"] != "sunrise" || uc["name"] != "Olive Owner" {
				t.Errorf("userinfo = %v", uc)
			}

			// Refresh rotates and re-reads permissions.
			e.perms.set(e.ownerID, "clients.read:assigned")
			tok2, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
			if err != nil {
				t.Fatalf("refresh: %v", err)
			}
			if tok2.RefreshToken == "" || tok2.RefreshToken == tok.RefreshToken {
				t.Fatal("refresh token did not rotate")
			}
			if p := jwtClaims(t, tok2.AccessToken)["permissions"]; !slices.Equal(toStrings(p), []string{"clients.read:assigned"}) {
				t.Errorf("refreshed permissions = %v", p)
			}

			// Introspection by the client.
			st, ir := e.postForm("/oauth2/introspect", url.Values{"token": {tok2.AccessToken}}, "ehr", ehrSecret)
			if st != 200 || ir["active"] != true || ir["client_id"] != "ehr" || ir["practice"] != "sunrise" {
				t.Errorf("introspection = %d %v", st, ir)
			}
			if st, _ := e.postForm("/oauth2/introspect", url.Values{"token": {tok2.AccessToken}}, "ehr", "wrong"); st != 401 {
				t.Errorf("introspection with a wrong secret = %d, want 401", st)
			}
			st, ir = e.postForm("/oauth2/introspect", url.Values{"token": {tok2.RefreshToken}}, "ehr", ehrSecret)
			if ir["active"] != true || ir["token_type"] != "refresh_token" {
				t.Errorf("refresh introspection = %d %v", st, ir)
			}

			// Replaying the first refresh token revokes the family.
			if _, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil ||
				!strings.Contains(err.Error(), "invalid_grant") {
				t.Fatalf("refresh replay: err = %v, want invalid_grant", err)
			}
			if _, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok2.RefreshToken}).Token(); err == nil {
				t.Fatal("the family's newest refresh token still works after a replay")
			}

			// Revocation of an access token (RFC 7009).
			if st, _ := e.postForm("/oauth2/revoke", url.Values{"token": {tok2.AccessToken}}, "ehr", ehrSecret); st != 200 {
				t.Fatalf("revoke = %d", st)
			}
			if _, err := e.rp.UserInfo(ctx, oauth2.StaticTokenSource(tok2)); err == nil {
				t.Error("userinfo accepted a revoked access token")
			}
			if _, ir := e.postForm("/oauth2/introspect", url.Values{"token": {tok2.AccessToken}}, "ehr", ehrSecret); ir["active"] != false {
				t.Errorf("revoked token introspects as %v", ir)
			}

			// A fresh login for logout: revoking a refresh token revokes its family.
			code, verifier, _ = e.login(browser, cfg)
			tok3, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
			if err != nil {
				t.Fatal(err)
			}
			// RP-initiated logout ends the browser session.
			q := url.Values{"id_token_hint": {tok3.Extra("id_token").(string)},
				"post_logout_redirect_uri": {"https://ehr.example/bye"}, "state": {"s1"}}
			resp := e.get(browser, "/oauth2/end_session?"+q.Encode())
			_ = resp.Body.Close()
			if loc := resp.Header.Get("Location"); loc != "https://ehr.example/bye?state=s1" {
				t.Fatalf("end_session = %d to %q", resp.StatusCode, loc)
			}
			resp = e.get(browser, "/p/sunrise/")
			_ = resp.Body.Close()
			if loc := resp.Header.Get("Location"); !strings.HasSuffix(loc, "/p/sunrise/login") {
				t.Errorf("after logout the session still works (%d %s)", resp.StatusCode, loc)
			}
			q.Set("post_logout_redirect_uri", "https://evil.example/")
			resp = e.get(e.browser(), "/oauth2/end_session?"+q.Encode())
			_ = resp.Body.Close()
			if resp.StatusCode/100 == 3 && strings.Contains(resp.Header.Get("Location"), "evil") {
				t.Error("end_session redirected to an unregistered URI")
			}
		})
	}
}

func toStrings(v any) []string {
	var out []string
	if l, ok := v.([]any); ok {
		for _, x := range l {
			s, _ := x.(string)
			out = append(out, s)
		}
	}
	return out
}

func TestClientCredentials(t *testing.T) {
	e := newEnv(t, store.SQLite)
	st, r := e.postForm("/oauth2/token", url.Values{"grant_type": {"client_credentials"}, "scope": {"schedule.read"}}, "ehr", ehrSecret)
	if st != 200 {
		t.Fatalf("client_credentials = %d %v", st, r)
	}
	tok, _ := r["access_token"].(string)
	if h := jwtHeader(t, tok); h.ExtraHeaders[jose.HeaderType] != "at+jwt" {
		t.Errorf("typ = %v", h.ExtraHeaders)
	}
	if c := jwtClaims(t, tok); c["sub"] != "ehr" || c["client_id"] != "ehr" || c["scope"] != "schedule.read" {
		t.Errorf("claims = %v", c)
	}
	if st, _ := e.postForm("/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, "ehr", "nope"); st != 400 && st != 401 {
		t.Errorf("wrong secret = %d", st)
	}
	for _, g := range []string{"password", "implicit", "urn:ietf:params:oauth:grant-type:device_code", "urn:ietf:params:oauth:grant-type:jwt-bearer"} {
		if st, r := e.postForm("/oauth2/token", url.Values{"grant_type": {g}, "username": {ownerEmail}, "password": {ownerPw}}, "ehr", ehrSecret); st == 200 {
			t.Errorf("grant %s answered 200: %v", g, r)
		}
	}
}

func jsonDecode(resp *http.Response, v any) error {
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(v)
}
