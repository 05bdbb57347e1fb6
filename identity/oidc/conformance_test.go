package oidc_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/frontdeskhq/frontdesk/identity/account/accounttest"
	fdoidc "github.com/frontdeskhq/frontdesk/identity/oidc"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
)

// The modules of the OpenID Foundation's oidcc-basic-certification-test-plan
// that failed or warned against frontdesk (issue 19), reproduced with real
// go-oidc and x/oauth2 clients. docs/conformance.md maps every module of the
// plans to the test that shows frontdesk's answer.

// loginNoPKCE runs the code flow as the conformance suite's Basic plan does:
// client_secret_basic, a nonce, no PKCE.
func (e *env) loginNoPKCE(c *http.Client, cfg *oauth2.Config, extra ...oauth2.AuthCodeOption) (code, nonce string) {
	e.t.Helper()
	nonce = oauth2.GenerateVerifier()
	opts := append([]oauth2.AuthCodeOption{gooidc.Nonce(nonce), oauth2.SetAuthURLParam("practice", "sunrise")}, extra...)
	loc, resp := e.flow(c, cfg.AuthCodeURL("st4te", opts...))
	if loc == nil {
		e.t.Fatalf("flow ended at %d: %s", resp.StatusCode, readBody(resp))
	}
	q := loc.Query()
	if q.Get("error") != "" || q.Get("state") != "st4te" || q.Get("iss") != e.srv.URL || q.Get("code") == "" {
		e.t.Fatalf("authorization response %s", loc)
	}
	return q.Get("code"), nonce
}

// verifyID checks an ID token the way a relying party that keeps OpenID
// Connect's default (RS256 only) does, and returns its claims.
func (e *env) verifyID(ctx context.Context, clientID string, tok *oauth2.Token, algs ...string) (*gooidc.IDToken, map[string]any) {
	e.t.Helper()
	raw, _ := tok.Extra("id_token").(string)
	idt, err := e.rp.Verifier(&gooidc.Config{ClientID: clientID, SupportedSigningAlgs: algs}).Verify(ctx, raw)
	if err != nil {
		e.t.Fatalf("ID token rejected by go-oidc (algorithms %v): %v", algs, err)
	}
	if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
		e.t.Errorf("at_hash: %v", err)
	}
	var m map[string]any
	if err := idt.Claims(&m); err != nil {
		e.t.Fatal(err)
	}
	return idt, m
}

func (e *env) userinfo(ctx context.Context, tok *oauth2.Token) map[string]any {
	e.t.Helper()
	ui, err := e.rp.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		e.t.Fatalf("userinfo: %v", err)
	}
	var m map[string]any
	if err := ui.Claims(&m); err != nil {
		e.t.Fatal(err)
	}
	return m
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestConformanceBasicPlanWithoutPKCE: oidcc-server and the rest of the
// Basic plan run without PKCE for a client configured with require_pkce:
// false; it must send a nonce; a code_verifier with no code_challenge is a
// downgrade and refused; a client left at the default still needs PKCE.
func TestConformanceBasicPlanWithoutPKCE(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			e := newEnv(t, engine)
			ctx := e.tokenCtx()
			cfg := e.oauth("basic", ehrSecret, basicCB)
			code, nonce := e.loginNoPKCE(e.browser(), cfg)
			tok, err := cfg.Exchange(ctx, code)
			if err != nil {
				t.Fatalf("exchange without PKCE: %v", err)
			}
			idt, _ := e.verifyID(ctx, "basic", tok) // go-oidc's default: RS256
			if idt.Nonce != nonce {
				t.Errorf("nonce = %q, want %q", idt.Nonce, nonce)
			}
			if ui := e.userinfo(ctx, tok); ui["sub"] != e.ownerID {
				t.Errorf("userinfo = %v", ui)
			}
		})
	}

	e := newEnv(t, store.SQLite)
	for name, tc := range map[string]struct {
		client, redirect string
		drop             []string
		want             string
	}{
		"exempt client without nonce":    {client: "basic", redirect: basicCB, drop: []string{"nonce", "code_challenge", "code_challenge_method"}, want: "invalid_request"},
		"default client without PKCE":    {client: "ehr", redirect: ehrCB, drop: []string{"code_challenge", "code_challenge_method"}, want: "invalid_request"},
		"exempt client with plain PKCE":  {client: "basic", redirect: basicCB, drop: []string{"code_challenge_method"}, want: "invalid_request"},
		"public client without PKCE":     {client: "spa", redirect: spaCB, drop: []string{"code_challenge", "code_challenge_method"}, want: "invalid_request"},
		"exempt client, nonce, no PKCE ": {client: "basic", redirect: basicCB, drop: []string{"code_challenge", "code_challenge_method"}, want: ""},
	} {
		q := baseAuthParams(tc.client, tc.redirect, oauth2.GenerateVerifier())
		q.Set("nonce", "n0nce")
		for _, k := range tc.drop {
			q.Del(k)
		}
		loc, resp := e.flow(e.browser(), e.authorizeURL(q))
		if loc == nil {
			t.Errorf("%s: status %d, want a redirect to the client", name, resp.StatusCode)
			continue
		}
		if got := loc.Query().Get("error"); got != tc.want || loc.Query().Get("state") != "st4te" {
			t.Errorf("%s: redirected to %s, want error=%q with state", name, loc, tc.want)
		}
	}

	// A code from a request without code_challenge, redeemed with a
	// code_verifier: refused (RFC 9700 2.1.1), and burnt.
	cfg := e.oauth("basic", ehrSecret, basicCB)
	code, _ := e.loginNoPKCE(e.browser(), cfg)
	if _, err := cfg.Exchange(e.tokenCtx(), code, oauth2.VerifierOption(oauth2.GenerateVerifier())); err == nil {
		t.Error("code_verifier accepted for a request that had no code_challenge")
	}
	// The exempt client may still use PKCE, and then it is checked.
	code, _, _ = e.login(e.browser(), cfg)
	if _, err := cfg.Exchange(e.tokenCtx(), code); err == nil {
		t.Error("exempt client that sent a code_challenge exchanged without code_verifier")
	}
	code, verifier, _ := e.login(e.browser(), cfg)
	if _, err := cfg.Exchange(e.tokenCtx(), code, oauth2.VerifierOption(verifier)); err != nil {
		t.Errorf("exempt client with PKCE: %v", err)
	}
}

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestRequirePKCEFalseIsWarnedAndConfidentialOnly: start-up warns about each
// exempt client; a public client cannot be exempted.
func TestRequirePKCEFalseIsWarnedAndConfidentialOnly(t *testing.T) {
	var logs syncBuffer
	newEnvDeps(t, store.SQLite, accounttest.NewClock(time.Now()), func(d *fdoidc.Deps) {
		d.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	out := logs.String()
	if !strings.Contains(out, "level=WARN") || !strings.Contains(out, "require_pkce: false") || !strings.Contains(out, "client=basic") {
		t.Errorf("start-up log lacks the require_pkce warning for client basic:\n%s", out)
	}
	if strings.Contains(out, "client=ehr") {
		t.Errorf("start-up warns about a client that requires PKCE:\n%s", out)
	}
	st := storetest.Open(t, store.SQLite)
	_, err := fdoidc.New(context.Background(), fdoidc.Deps{Store: st},
		fdoidc.Settings{Issuer: "https://id.example", MasterKey: make([]byte, fdoidc.MasterKeySize),
			AccessTokenTTL: time.Minute, IDTokenTTL: time.Minute, RefreshTokenTTL: time.Hour, CodeTTL: time.Minute,
			AuthRequestTTL: time.Minute, Clients: []fdoidc.ClientConfig{{ID: "pub", RedirectURIs: []string{spaCB}, PKCEOptional: true}}})
	if err == nil || !strings.Contains(err.Error(), "confidential") {
		t.Errorf("public client without PKCE: err = %v, want a refusal naming confidential clients", err)
	}
}

// TestClaimsFollowScopes: oidcc-scope-*, oidcc-server and the ID-token
// checks of every module: the ID token carries the protocol claims and the
// groups meant for it whose scope was granted; profile and email come from
// userinfo; access tokens always carry the practice claims.
func TestClaimsFollowScopes(t *testing.T) {
	e := newEnv(t, store.SQLite)
	ctx := e.tokenCtx()
	practice := []string{"practice", "practice_id", "roles", "permissions"}
	practitioner := []string{"legal_name", "preferred_name", "credentials", "npi", "taxonomy", "supervisors", "supervisees", "cosign_notes", "cosign_treatment_plans"}
	for _, tc := range []struct {
		scopes               []string
		idHas, idLacks       []string
		userinfo, uiLacks    []string
		claimsParam, acrVals string
	}{
		{scopes: nil, idLacks: append(append([]string{"email", "email_verified", "name", "acr"}, practice...), practitioner...),
			uiLacks: append([]string{"email", "name"}, practice...)},
		{scopes: []string{"email"}, idLacks: []string{"email", "email_verified", "practice"},
			userinfo: []string{"email", "email_verified"}, uiLacks: []string{"name", "practice"}},
		{scopes: []string{"profile"}, idLacks: []string{"name", "updated_at", "email"},
			userinfo: []string{"name", "updated_at"}, uiLacks: []string{"email", "practice"}},
		{scopes: []string{"roles"}, idHas: practice, idLacks: []string{"email", "name"},
			userinfo: practice, uiLacks: []string{"email", "name"}},
		{scopes: []string{"practitioner"}, idHas: practitioner, idLacks: practice, userinfo: practitioner},
		// oidcc-claims-essential: name asked for in userinfo with openid alone.
		{claimsParam: `{"userinfo":{"name":{"essential":true}}}`, userinfo: []string{"name"}, idLacks: []string{"name"},
			uiLacks: []string{"email"}},
		{claimsParam: `{"id_token":{"email":{"essential":true}}}`, idHas: []string{"email", "email_verified"},
			uiLacks: []string{"email"}},
		// Claims of a scope the client may not have are not released
		// through the claims parameter either.
		{claimsParam: `{"id_token":{"acr":{"essential":true}},"userinfo":{"no_such_claim":null}}`, idHas: []string{"acr"}},
		// oidcc-ensure-request-with-acr-values-succeeds.
		{acrVals: "1 2", idHas: []string{"acr"}},
	} {
		name := strings.Join(append([]string{"openid"}, tc.scopes...), " ") + " " + tc.claimsParam + tc.acrVals
		cfg := e.oauth("ehr", ehrSecret, ehrCB, tc.scopes...)
		var opts []oauth2.AuthCodeOption
		if tc.claimsParam != "" {
			opts = append(opts, oauth2.SetAuthURLParam("claims", tc.claimsParam))
		}
		if tc.acrVals != "" {
			opts = append(opts, oauth2.SetAuthURLParam("acr_values", tc.acrVals))
		}
		code, verifier, _ := e.login(e.browser(), cfg, opts...)
		tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatalf("%s: exchange: %v", name, err)
		}
		_, id := e.verifyID(ctx, "ehr", tok)
		ui := e.userinfo(ctx, tok)
		for _, k := range tc.idHas {
			if _, ok := id[k]; !ok {
				t.Errorf("%s: ID token lacks %s: %v", name, k, keys(id))
			}
		}
		for _, k := range tc.idLacks {
			if _, ok := id[k]; ok {
				t.Errorf("%s: ID token carries %s, which was not asked for: %v", name, k, keys(id))
			}
		}
		for _, k := range tc.userinfo {
			if _, ok := ui[k]; !ok {
				t.Errorf("%s: userinfo lacks %s: %v", name, k, keys(ui))
			}
		}
		for _, k := range tc.uiLacks {
			if _, ok := ui[k]; ok {
				t.Errorf("%s: userinfo carries %s, which was not asked for: %v", name, k, keys(ui))
			}
		}
		if ui["sub"] != id["sub"] {
			t.Errorf("%s: userinfo sub %v, ID token sub %v", name, ui["sub"], id["sub"])
		}
		if acr, ok := id["acr"]; ok && acr != fdoidc.ACRPassword {
			t.Errorf("%s: acr = %v, want %s for a password login", name, acr, fdoidc.ACRPassword)
		}
		at := jwtClaims(t, tok.AccessToken)
		for _, k := range practice {
			if _, ok := at[k]; !ok {
				t.Errorf("%s: access token lacks %s", name, k)
			}
		}
	}
}

// TestClaimsParameterMalformed: a claims parameter that is not JSON is an
// error redirected to the client.
func TestClaimsParameterMalformed(t *testing.T) {
	e := newEnv(t, store.SQLite)
	for name, v := range map[string]string{"not JSON": "{", "too long": `{"userinfo":{"` + strings.Repeat("a", 5000) + `":null}}`} {
		q := baseAuthParams("ehr", ehrCB, oauth2.GenerateVerifier())
		q.Set("claims", v)
		resp := e.get(e.browser(), e.authorizeURL(q))
		_ = resp.Body.Close()
		loc, err := resp.Location()
		if err != nil || loc.Query().Get("error") != "invalid_request" || loc.Query().Get("state") != "st4te" {
			t.Errorf("%s: %d %v, want error=invalid_request at the client with state", name, resp.StatusCode, loc)
		}
	}
}

// TestRequestObjectsRedirectedAsUnsupported:
// oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported
// and oidcc-request-uri-*: request and request_uri get the OAuth error at the
// client's redirect URI with state and iss when the client and redirect URI
// are valid, and an error page (no redirect) otherwise.
func TestRequestObjectsRedirectedAsUnsupported(t *testing.T) {
	e := newEnv(t, store.SQLite)
	unsigned := "eyJhbGciOiJub25lIn0.eyJjbGllbnRfaWQiOiJiYXNpYyJ9." // {"alg":"none"} {"client_id":"basic"}
	for _, tc := range []struct {
		name, client, redirect, param, value, want string
	}{
		{"unsigned request, PKCE client", "ehr", ehrCB, "request", unsigned, "request_not_supported"},
		{"unsigned request, no-PKCE client", "basic", basicCB, "request", unsigned, "request_not_supported"},
		{"request_uri", "ehr", ehrCB, "request_uri", "https://ehr.example/req.jwt", "request_uri_not_supported"},
		{"request, unregistered redirect", "ehr", "https://evil.example/cb", "request", unsigned, ""},
		{"request, unknown client", "nobody", ehrCB, "request", unsigned, ""},
	} {
		q := baseAuthParams(tc.client, tc.redirect, oauth2.GenerateVerifier())
		q.Set("nonce", "n0nce")
		q.Set(tc.param, tc.value)
		resp := e.get(e.browser(), e.authorizeURL(q))
		_ = resp.Body.Close()
		loc, err := resp.Location()
		if tc.want == "" {
			if err == nil {
				t.Errorf("%s: redirected to %s, want an error page", tc.name, loc)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: status %d, want a redirect to the client", tc.name, resp.StatusCode)
			continue
		}
		if !strings.HasPrefix(loc.String(), tc.redirect) || loc.Query().Get("error") != tc.want ||
			loc.Query().Get("state") != "st4te" || loc.Query().Get("iss") != e.srv.URL {
			t.Errorf("%s: redirected to %s, want error=%s with state and iss", tc.name, loc, tc.want)
		}
	}
}

// TestDiscoveryStatesConformanceFeatures: oidcc-discovery-endpoint-verification
// and the Config plan: request objects unsupported, the claims parameter,
// acr values and the roles scope listed, RS256 first among ID-token
// algorithms (the OpenID Connect default).
func TestDiscoveryStatesConformanceFeatures(t *testing.T) {
	e := newEnv(t, store.SQLite)
	var d map[string]any
	if err := e.rp.Claims(&d); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{
		"request_parameter_supported":     nil, // omitted: false
		"request_uri_parameter_supported": false,
		"claims_parameter_supported":      true,
		"acr_values_supported":            []any{fdoidc.ACRPassword, fdoidc.ACRPasskey, fdoidc.ACRSSO},
	} {
		got, _ := json.Marshal(d[k])
		exp, _ := json.Marshal(want)
		if string(got) != string(exp) {
			t.Errorf("discovery %s = %s, want %s", k, got, exp)
		}
	}
	scopes, _ := d["scopes_supported"].([]any)
	if !slices.Contains(scopes, any("roles")) {
		t.Errorf("scopes_supported = %v, want roles among them", scopes)
	}
	claims, _ := d["claims_supported"].([]any)
	for _, c := range []string{"sub", "acr", "name", "updated_at", "email", "practice", "roles", "permissions"} {
		if !slices.Contains(claims, any(c)) {
			t.Errorf("claims_supported lacks %s", c)
		}
	}
}

// TestSigningAlgorithmsPerClient: ID tokens are RS256 unless the client
// asks for ES256 (id_token_signed_response_alg); access tokens ES256 unless
// it asks for RS256; refreshed tokens and logout tokens follow; the older
// signing_alg sets both.
func TestSigningAlgorithmsPerClient(t *testing.T) {
	e := newEnv(t, store.SQLite)
	ctx := e.tokenCtx()
	for _, tc := range []struct {
		client, secret, redirect string
		id, access               string
		scopes                   []string
	}{
		{"ehr", ehrSecret, ehrCB, "RS256", "ES256", []string{"offline_access"}},
		{"inverse", ehrSecret, ehrCB, "ES256", "RS256", []string{"offline_access"}},
		{"collect", ehrSecret, collectCB, "RS256", "RS256", nil}, // signing_alg: RS256
		{"spa", "", spaCB, "RS256", "ES256", []string{"offline_access"}},
	} {
		cfg := e.oauth(tc.client, tc.secret, tc.redirect, tc.scopes...)
		if tc.client == "collect" {
			e.perms.set(e.ownerID, "app.datacollection.login")
		}
		code, verifier, _ := e.login(e.browser(), cfg)
		tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatalf("%s: exchange: %v", tc.client, err)
		}
		check := func(when string, tok *oauth2.Token) {
			e.verifyID(ctx, tc.client, tok, tc.id)
			if got := jwtHeader(t, tok.Extra("id_token").(string)).Algorithm; got != tc.id {
				t.Errorf("%s %s: ID token alg %s, want %s", tc.client, when, got, tc.id)
			}
			if got := jwtHeader(t, tok.AccessToken).Algorithm; got != tc.access {
				t.Errorf("%s %s: access token alg %s, want %s", tc.client, when, got, tc.access)
			}
		}
		check("code", tok)
		if tok.RefreshToken != "" {
			next, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
			if err != nil {
				t.Fatalf("%s: refresh: %v", tc.client, err)
			}
			check("refresh", next)
		}
	}
}

// TestBasicPlanByHand: modules of the Basic plan as the suite drives them,
// by hand, in both modes (the exempt client "basic" without PKCE, the
// default client "ehr" with PKCE): an authorize URL with the module's
// parameters, the code redeemed with client_secret_basic (or _post), the ID
// token verified with go-oidc's default (RS256) verifier; then, in the same
// browser, oidcc-id-token-hint (prompt=none with the ID token as hint).
func TestBasicPlanByHand(t *testing.T) {
	e := newEnv(t, store.SQLite)
	for _, mode := range []struct {
		client, redirect string
		pkce             bool
	}{{"basic", basicCB, false}, {"ehr", ehrCB, true}} {
		for _, tc := range []struct {
			module string
			extra  url.Values
			post   bool // client_secret_post
			nonce  bool
		}{
			{module: "oidcc-server", nonce: true},
			{module: "oidcc-ensure-other-scope-order-succeeds", extra: url.Values{"scope": {"email openid"}}, nonce: true},
			{module: "oidcc-display-page", extra: url.Values{"display": {"page"}}, nonce: true},
			{module: "oidcc-display-popup", extra: url.Values{"display": {"popup"}}, nonce: true},
			{module: "oidcc-ui-locales", extra: url.Values{"ui_locales": {"se"}}, nonce: true},
			{module: "oidcc-claims-locales", extra: url.Values{"claims_locales": {"se"}}, nonce: true},
			{module: "oidcc-ensure-request-with-unknown-parameter-succeeds", extra: url.Values{"extra": {"foobar"}}, nonce: true},
			{module: "oidcc-scope-all", extra: url.Values{"scope": {"openid profile email address phone"}}, nonce: true},
			{module: "oidcc-server-client-secret-post", post: true, nonce: true},
			// Without PKCE a nonce is required (issue 19 point 1): this module
			// runs only with PKCE; docs/conformance.md says why.
			{module: "oidcc-ensure-request-without-nonce-succeeds-for-code-flow"},
		} {
			if !tc.nonce && !mode.pkce {
				continue
			}
			name := tc.module + " " + mode.client
			q := url.Values{"client_id": {mode.client}, "redirect_uri": {mode.redirect}, "response_type": {"code"},
				"scope": {"openid"}, "state": {"st4te"}, "practice": {"sunrise"}}
			if tc.nonce {
				q.Set("nonce", "n0nce")
			}
			verifier := oauth2.GenerateVerifier()
			if mode.pkce {
				q.Set("code_challenge", oauth2.S256ChallengeFromVerifier(verifier))
				q.Set("code_challenge_method", "S256")
			}
			for k, v := range tc.extra {
				q[k] = v
			}
			browser := e.browser()
			loc, resp := e.flow(browser, e.authorizeURL(q))
			if loc == nil || loc.Query().Get("code") == "" || loc.Query().Get("state") != "st4te" {
				t.Errorf("%s: flow ended at %v (%d)", name, loc, resp.StatusCode)
				continue
			}
			form := url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")}, "redirect_uri": {mode.redirect}}
			if mode.pkce {
				form.Set("code_verifier", verifier)
			}
			user := mode.client
			if tc.post {
				form.Set("client_id", mode.client)
				form.Set("client_secret", ehrSecret)
				user = ""
			}
			status, body := e.postForm("/oauth2/token", form, user, ehrSecret)
			raw, _ := body["id_token"].(string)
			if status != http.StatusOK || raw == "" {
				t.Errorf("%s: token: %d %v", name, status, body)
				continue
			}
			idt, err := e.rp.Verifier(&gooidc.Config{ClientID: mode.client}).Verify(e.ctx, raw)
			if err != nil {
				t.Errorf("%s: ID token: %v", name, err)
				continue
			}
			if want := map[bool]string{true: "n0nce"}[tc.nonce]; idt.Nonce != want {
				t.Errorf("%s: nonce = %q, want %q", name, idt.Nonce, want)
			}
			if tc.module != "oidcc-server" {
				continue
			}
			// oidcc-id-token-hint: prompt=none with the ID token as hint, in the
			// browser that logged in, goes straight back with a code.
			q.Set("prompt", "none")
			q.Set("id_token_hint", raw)
			if mode.pkce {
				verifier = oauth2.GenerateVerifier()
				q.Set("code_challenge", oauth2.S256ChallengeFromVerifier(verifier))
			}
			if loc, resp := e.flow(browser, e.authorizeURL(q)); loc == nil || loc.Query().Get("code") == "" {
				t.Errorf("oidcc-id-token-hint %s: %d %v", mode.client, resp.StatusCode, loc)
			}
		}
	}
}

// TestAuthorizeErrorPages: oidcc-ensure-registered-redirect-uri,
// oidcc-ensure-redirect-uri-in-authorization-request and
// oidcc-response-type-missing: the suite accepts an error page (the tester
// uploads a screenshot) or, once the redirect URI is trusted, an error
// redirected to it. frontdesk never redirects to an unregistered or missing
// redirect URI.
func TestAuthorizeErrorPages(t *testing.T) {
	e := newEnv(t, store.SQLite)
	for _, tc := range []struct {
		module string
		change func(url.Values)
		page   bool   // an error page, no redirect
		want   string // else the error at the client
	}{
		{"oidcc-ensure-registered-redirect-uri", func(q url.Values) { q.Set("redirect_uri", "https://evil.example/cb") }, true, ""},
		{"oidcc-ensure-redirect-uri-in-authorization-request", func(q url.Values) { q.Del("redirect_uri") }, true, ""},
		{"oidcc-response-type-missing", func(q url.Values) { q.Del("response_type") }, true, ""},
		// Not a Basic-plan module: the library refuses a response type the
		// client may not use before frontdesk sees the request.
		{"response_type=token", func(q url.Values) { q.Set("response_type", "token") }, true, ""},
	} {
		q := baseAuthParams("ehr", ehrCB, oauth2.GenerateVerifier())
		q.Set("nonce", "n0nce")
		tc.change(q)
		resp := e.get(e.browser(), e.authorizeURL(q))
		body := readBody(resp)
		loc, err := resp.Location()
		switch {
		case tc.page && err == nil:
			t.Errorf("%s: redirected to %s, want an error page", tc.module, loc)
		case tc.page && resp.StatusCode != http.StatusBadRequest:
			t.Errorf("%s: %d %s, want 400", tc.module, resp.StatusCode, body)
		case !tc.page && (err != nil || !strings.HasPrefix(loc.String(), ehrCB) || loc.Query().Get("state") != "st4te" ||
			loc.Query().Get("error") != tc.want && loc.Query().Get("error") != "invalid_request"):
			t.Errorf("%s: %d %v, want error %s at the client", tc.module, resp.StatusCode, loc, tc.want)
		}
	}
}

// TestAuthorizePOSTAndUserinfoVariants: oidcc-ensure-post-request-succeeds
// (the authorization request as a form POST from the suite's own origin)
// and oidcc-userinfo-get, -post-header, -post-body.
func TestAuthorizePOSTAndUserinfoVariants(t *testing.T) {
	e := newEnv(t, store.SQLite)
	c := e.browser()
	q := url.Values{"client_id": {"basic"}, "redirect_uri": {basicCB}, "response_type": {"code"},
		"scope": {"openid profile"}, "state": {"st4te"}, "nonce": {"n0nce"}, "practice": {"sunrise"}}
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/oauth2/authorize", strings.NewReader(q.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://www.certification.openid.net")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	code := ""
	if next, resp := e.follow(c, resp); next == nil || next.Query().Get("code") == "" {
		t.Fatalf("flow after POST authorize: %v %d", next, resp.StatusCode)
	} else {
		code = next.Query().Get("code")
	}
	status, body := e.postForm("/oauth2/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {basicCB}}, "basic", ehrSecret)
	at, _ := body["access_token"].(string)
	if status != http.StatusOK || at == "" {
		t.Fatalf("token: %d %v", status, body)
	}
	for _, tc := range []struct {
		name, method string
		header, body bool
	}{{"get", http.MethodGet, true, false}, {"post-header", http.MethodPost, true, false}, {"post-body", http.MethodPost, false, true}} {
		var rd *strings.Reader
		if tc.body {
			rd = strings.NewReader(url.Values{"access_token": {at}}.Encode())
		} else {
			rd = strings.NewReader("")
		}
		req, _ := http.NewRequest(tc.method, e.srv.URL+"/oauth2/userinfo", rd)
		if tc.body {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		if tc.header {
			req.Header.Set("Authorization", "Bearer "+at)
		}
		resp, err := e.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var ui map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&ui)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK || ui["sub"] != e.ownerID || ui["name"] == nil {
			t.Errorf("userinfo %s: %d %v", tc.name, resp.StatusCode, ui)
		}
	}
}

// TestRPInitiatedLogoutModules: the RP-initiated logout plan's modules with a
// valid id_token_hint: where the browser lands, with or without state and
// post_logout_redirect_uri, and that a modified hint ends nothing.
func TestRPInitiatedLogoutModules(t *testing.T) {
	e := newEnv(t, store.SQLite)
	for _, tc := range []struct {
		module   string
		uri      string
		state    string
		modify   bool
		want     string // Location prefix; "" for a 400
		loggedIn bool   // still signed in afterwards
	}{
		{module: "oidcc-rp-initiated-logout", uri: "https://ehr.example/bye", state: "s1", want: "https://ehr.example/bye?state=s1"},
		{module: "oidcc-rp-initiated-logout-no-state", uri: "https://ehr.example/bye", want: "https://ehr.example/bye"},
		{module: "oidcc-rp-initiated-logout-no-post-logout-redirect-uri", want: e.srv.URL + "/"},
		{module: "oidcc-rp-initiated-logout-only-state", state: "s1", want: e.srv.URL + "/"},
		{module: "oidcc-rp-initiated-logout-modified-id-token-hint", uri: "https://ehr.example/bye", state: "s1", modify: true, loggedIn: true},
	} {
		b, tok, _ := e.loggedInApp()
		hint := tok.Extra("id_token").(string)
		if tc.modify {
			// Another payload under the same signature.
			parts := strings.Split(hint, ".")
			other := strings.Split(tok.AccessToken, ".")
			hint = parts[0] + "." + other[1] + "." + parts[2]
		}
		q := url.Values{"id_token_hint": {hint}}
		if tc.uri != "" {
			q.Set("post_logout_redirect_uri", tc.uri)
		}
		if tc.state != "" {
			q.Set("state", tc.state)
		}
		resp := e.get(b, "/oauth2/end_session?"+q.Encode())
		_ = resp.Body.Close()
		loc := resp.Header.Get("Location")
		switch {
		case tc.want == "" && resp.StatusCode != http.StatusBadRequest:
			t.Errorf("%s: %d to %q, want 400", tc.module, resp.StatusCode, loc)
		case tc.want != "" && (resp.StatusCode/100 != 3 || !strings.HasPrefix(loc, tc.want)):
			t.Errorf("%s: %d to %q, want a redirect to %s", tc.module, resp.StatusCode, loc, tc.want)
		case tc.want != "" && tc.state == "" && strings.Contains(loc, "state="):
			t.Errorf("%s: redirect %q carries a state nobody sent", tc.module, loc)
		}
		if got := e.signedIn(b); got != tc.loggedIn {
			t.Errorf("%s: signed in afterwards = %v, want %v", tc.module, got, tc.loggedIn)
		}
	}
}
