package oidc_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	zcrypto "github.com/zitadel/oidc/v3/pkg/crypto"
	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/frontdeskhq/frontdesk/identity/account/accounttest"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
)

func (e *env) tokenCtx() context.Context {
	return context.WithValue(e.ctx, oauth2.HTTPClient, e.srv.Client())
}

// authorizeURL builds an authorization URL by hand, so tests can break it.
func (e *env) authorizeURL(q url.Values) string {
	return e.srv.URL + "/oauth2/authorize?" + q.Encode()
}

func baseAuthParams(clientID, redirect, verifier string) url.Values {
	return url.Values{"client_id": {clientID}, "redirect_uri": {redirect}, "response_type": {"code"},
		"scope": {"openid email"}, "state": {"st4te"}, "practice": {"sunrise"},
		"code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)}, "code_challenge_method": {"S256"}}
}

func TestRedirectURIMustMatchExactly(t *testing.T) {
	e := newEnv(t, store.SQLite)
	v := oauth2.GenerateVerifier()
	for _, bad := range []string{
		"https://evil.example/callback",
		ehrCB + "/",
		ehrCB + "?next=https://evil.example",
		"https://ehr.example/%63allback", // the library unescapes before comparing
		"https://EHR.example/callback",
		"",
	} {
		resp := e.get(e.browser(), e.authorizeURL(baseAuthParams("ehr", bad, v)))
		_ = resp.Body.Close()
		if resp.StatusCode/100 == 3 {
			t.Errorf("redirect_uri %q: redirected to %s", bad, resp.Header.Get("Location"))
		}
	}
	// At the token endpoint a different redirect_uri is refused, and the code
	// is gone afterwards.
	cfg := e.oauth("ehr", ehrSecret, ehrCB)
	code, verifier, _ := e.login(e.browser(), cfg)
	other := *cfg
	other.RedirectURL = "https://ehr.example/other"
	if _, err := other.Exchange(e.tokenCtx(), code, oauth2.VerifierOption(verifier)); err == nil {
		t.Fatal("code exchanged with another redirect_uri")
	}
	if _, err := cfg.Exchange(e.tokenCtx(), code, oauth2.VerifierOption(verifier)); err == nil {
		t.Fatal("code still usable after a failed exchange")
	}
}

func TestPKCEIsRequiredAndS256Only(t *testing.T) {
	e := newEnv(t, store.SQLite)
	v := oauth2.GenerateVerifier()
	for name, q := range map[string]url.Values{
		"missing": func() url.Values {
			q := baseAuthParams("ehr", ehrCB, v)
			q.Del("code_challenge")
			q.Del("code_challenge_method")
			return q
		}(),
		"plain": func() url.Values {
			q := baseAuthParams("ehr", ehrCB, v)
			q.Set("code_challenge", v)
			q.Set("code_challenge_method", "plain")
			return q
		}(),
		"no method": func() url.Values {
			q := baseAuthParams("spa", spaCB, v)
			q.Del("code_challenge_method")
			return q
		}(),
	} {
		resp := e.get(e.browser(), e.authorizeURL(q))
		_ = resp.Body.Close()
		loc, err := resp.Location()
		if err != nil {
			t.Errorf("%s: status %d, want an error redirect", name, resp.StatusCode)
			continue
		}
		if loc.Query().Get("error") != "invalid_request" || loc.Query().Get("iss") != e.srv.URL || loc.Query().Get("state") != "st4te" {
			t.Errorf("%s: redirected to %s, want error=invalid_request with iss and state", name, loc)
		}
	}

	// A failed verifier burns the code, for confidential clients too.
	cfg := e.oauth("ehr", ehrSecret, ehrCB)
	code, verifier, _ := e.login(e.browser(), cfg)
	if _, err := cfg.Exchange(e.tokenCtx(), code, oauth2.VerifierOption(oauth2.GenerateVerifier())); err == nil {
		t.Fatal("exchange with a wrong verifier succeeded")
	}
	if _, err := cfg.Exchange(e.tokenCtx(), code, oauth2.VerifierOption(verifier)); err == nil {
		t.Fatal("code usable after a failed PKCE attempt")
	}
	code, _, _ = e.login(e.browser(), cfg)
	if _, err := cfg.Exchange(e.tokenCtx(), code); err == nil {
		t.Fatal("confidential client exchanged a code without code_verifier")
	}

	// A public client completes the flow with PKCE and no secret.
	spa := e.oauth("spa", "", spaCB)
	code, verifier, _ = e.login(e.browser(), spa)
	if _, err := spa.Exchange(e.tokenCtx(), code, oauth2.VerifierOption(verifier)); err != nil {
		t.Fatalf("public client exchange: %v", err)
	}
}

func TestCodeReplayRevokesWhatItIssued(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(string(engine), func(t *testing.T) { codeReplay(t, engine) })
	}
}

func codeReplay(t *testing.T, engine store.Engine) {
	{
		e := newEnv(t, engine)
		cfg := e.oauth("ehr", ehrSecret, ehrCB, "offline_access")
		code, verifier, _ := e.login(e.browser(), cfg)
		tok, err := cfg.Exchange(e.tokenCtx(), code, oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cfg.Exchange(e.tokenCtx(), code, oauth2.VerifierOption(verifier)); err == nil ||
			!strings.Contains(err.Error(), "invalid_grant") {
			t.Fatalf("replayed code: err = %v, want invalid_grant", err)
		}
		if _, err := cfg.TokenSource(e.tokenCtx(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
			t.Fatal("refresh token issued from a replayed code still works")
		}
		// F6: the access token of the first redemption goes too, with and
		// without a refresh token.
		e.assertRefused(t, "access token of a replayed code", tok.AccessToken)
		plain := e.oauth("ehr", ehrSecret, ehrCB)
		code, verifier, _ = e.login(e.browser(), plain)
		ptok, err := plain.Exchange(e.tokenCtx(), code, oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := plain.Exchange(e.tokenCtx(), code, oauth2.VerifierOption(verifier)); err == nil {
			t.Fatal("a code was redeemed twice")
		}
		e.assertRefused(t, "access token of a replayed code without offline_access", ptok.AccessToken)
		// A code is for the client it was issued to.
		code, verifier, _ = e.login(e.browser(), cfg)
		brief := e.oauth("brief", ehrSecret, ehrCB)
		if _, err := brief.Exchange(e.tokenCtx(), code, oauth2.VerifierOption(verifier)); err == nil {
			t.Fatal("another client redeemed the code")
		}
	}
}

// assertRefused checks that userinfo answers 401 to an access token and
// introspection reports it inactive.
func (e *env) assertRefused(t *testing.T, what, at string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/oauth2/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+at)
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	st, in := e.postForm("/oauth2/introspect", url.Values{"token": {at}}, "ehr", ehrSecret)
	if resp.StatusCode != http.StatusUnauthorized || st != 200 || in["active"] != false {
		t.Errorf("%s: userinfo %d, introspection %d %v; want 401 and inactive", what, resp.StatusCode, st, in)
	}
}

func TestAuthRequestIsBoundToItsBrowser(t *testing.T) {
	e := newEnv(t, store.SQLite)
	victim, attacker := e.browser(), e.browser()
	v := oauth2.GenerateVerifier()
	resp := e.get(victim, e.authorizeURL(baseAuthParams("ehr", ehrCB, v)))
	_ = resp.Body.Close()
	loc, err := resp.Location()
	if err != nil || loc.Path != "/p/sunrise/login" {
		t.Fatalf("authorize = %d %v", resp.StatusCode, loc)
	}
	id := loc.Query().Get("authRequest")
	// Another browser can neither open nor finish it, even with valid credentials.
	page := e.get(attacker, loc.String())
	if body := readBody(page); page.StatusCode != http.StatusBadRequest || strings.Contains(body, id) {
		t.Errorf("foreign browser opened the login page: %d", page.StatusCode)
	}
	resp = e.postLogin(attacker, id, ownerEmail, ownerPw)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("foreign browser finished the auth request: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp = e.get(attacker, "/oauth2/authorize/callback?id="+url.QueryEscape(id))
	_ = resp.Body.Close()
	if resp.StatusCode/100 == 3 {
		t.Errorf("foreign browser got a code from the callback: %s", resp.Header.Get("Location"))
	}
	// The right browser finishes it; the attacker still cannot collect the code.
	resp = e.postLogin(victim, id, ownerEmail, ownerPw)
	_ = resp.Body.Close()
	next, err := resp.Location()
	if err != nil || !strings.HasSuffix(next.Path, "/oauth2/authorize/callback") {
		t.Fatalf("login = %d %v", resp.StatusCode, next)
	}
	resp = e.get(attacker, next.String())
	_ = resp.Body.Close()
	if resp.StatusCode/100 == 3 {
		t.Errorf("foreign browser collected the code: %s", resp.Header.Get("Location"))
	}
	resp = e.get(victim, next.String())
	_ = resp.Body.Close()
	if l := resp.Header.Get("Location"); !strings.HasPrefix(l, ehrCB+"?") || !strings.Contains(l, "code=") {
		t.Fatalf("callback = %d %s", resp.StatusCode, l)
	}
	// The login page of a pending request allows the app's origin as a
	// form target (the final redirect of the login POST goes there).
	resp = e.get(victim, e.authorizeURL(baseAuthParams("collect", collectCB, v)))
	_ = resp.Body.Close()
	victim2 := e.browser()
	resp = e.get(victim2, e.authorizeURL(baseAuthParams("ehr", ehrCB, v)))
	loc, _ = resp.Location()
	page = e.get(victim2, loc.String())
	_ = readBody(page)
	if csp := page.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' https://ehr.example;") {
		t.Errorf("login page CSP = %q", csp)
	}
}

func TestPromptMaxAgeAndLoginHint(t *testing.T) {
	e := newEnv(t, store.SQLite)
	b := e.browser()
	v := oauth2.GenerateVerifier()
	// prompt=none without a session.
	q := baseAuthParams("ehr", ehrCB, v)
	q.Set("prompt", "none")
	resp := e.get(b, e.authorizeURL(q))
	_ = resp.Body.Close()
	if loc, err := resp.Location(); err != nil || loc.Query().Get("error") != "login_required" {
		t.Fatalf("prompt=none without session = %d %v", resp.StatusCode, loc)
	}
	// login_hint prefills the email.
	q = baseAuthParams("ehr", ehrCB, v)
	q.Set("login_hint", "hint@example.org")
	resp = e.get(b, e.authorizeURL(q))
	loc, _ := resp.Location()
	_ = resp.Body.Close()
	page := e.get(b, loc.String())
	if body := readBody(page); !strings.Contains(body, `value="hint@example.org"`) {
		t.Errorf("login_hint not prefilled")
	}
	// After a login, prompt=none goes straight to the app.
	cfg := e.oauth("ehr", ehrSecret, ehrCB)
	e.login(b, cfg)
	q = baseAuthParams("ehr", ehrCB, v)
	q.Set("prompt", "none")
	if loc, _ := e.flowNoLogin(b, e.authorizeURL(q)); loc == nil || loc.Query().Get("code") == "" {
		t.Fatalf("prompt=none with a session: %v", loc)
	}
	// So does a plain request (single sign-on)...
	if loc, _ := e.flowNoLogin(b, e.authorizeURL(baseAuthParams("ehr", ehrCB, v))); loc == nil || loc.Query().Get("code") == "" {
		t.Fatalf("SSO with a session: %v", loc)
	}
	// ...but prompt=login and max_age=0 show the form.
	for _, k := range []string{"prompt", "max_age"} {
		q = baseAuthParams("ehr", ehrCB, v)
		q.Set(k, map[string]string{"prompt": "login", "max_age": "0"}[k])
		e.acc.Clock.Advance(2 * time.Second) // max_age counts whole seconds
		resp = e.get(b, e.authorizeURL(q))
		loc, _ := resp.Location()
		_ = resp.Body.Close()
		if loc == nil || loc.Path != "/p/sunrise/login" {
			t.Fatalf("%s: authorize went to %v", k, loc)
		}
		page := e.get(b, loc.String())
		if body := readBody(page); page.StatusCode != 200 || !hiddenAuthRequest.MatchString(body) {
			t.Errorf("%s: login form not shown (%d)", k, page.StatusCode)
		}
	}
}

// flowNoLogin follows redirects inside frontdesk without submitting a form.
func (e *env) flowNoLogin(c *http.Client, u string) (*url.URL, *http.Response) {
	resp := e.get(c, u)
	for range 5 {
		_ = resp.Body.Close()
		loc, err := resp.Location()
		if err != nil {
			return nil, resp
		}
		if !strings.HasPrefix(loc.String(), e.srv.URL) {
			return loc, resp
		}
		resp = e.get(c, loc.String())
	}
	return nil, resp
}

func TestRequirePermission(t *testing.T) {
	e := newEnv(t, store.SQLite)
	cfg := e.oauth("collect", ehrSecret, collectCB)
	v := oauth2.GenerateVerifier()
	loc, resp := e.flow(e.browser(), cfg.AuthCodeURL("st4te", oauth2.S256ChallengeOption(v)))
	if loc != nil {
		t.Fatalf("member without the permission got %s", loc)
	}
	if body := readBody(resp); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "app.datacollection.login") {
		t.Fatalf("refusal page = %d %s", resp.StatusCode, body)
	}
	e.perms.set(e.ownerID, "app.*.login")          // implies app.datacollection.login
	code, verifier, _ := e.login(e.browser(), cfg) // practice= is also accepted for a bound client
	tok, err := cfg.Exchange(e.tokenCtx(), code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	if h := jwtHeader(t, tok.AccessToken); h.Algorithm != "RS256" {
		t.Errorf("client asking for RS256 got %s", h.Algorithm)
	}
	if _, err := e.rp.Verifier(&gooidc.Config{ClientID: "collect"}).Verify(e.ctx, tok.Extra("id_token").(string)); err != nil {
		t.Errorf("RS256 ID token: %v", err)
	}
}

func TestExpiredAndForeignTokens(t *testing.T) {
	// The provider's clock starts an hour back, so its signing key is
	// active from then; it is moved to the present for the tokens that
	// must be good, and back for the one that must have expired.
	e := newEnvClock(t, store.SQLite, accounttest.NewClock(time.Now().Add(-time.Hour)))
	e.acc.Clock.Advance(time.Hour)
	cfg := e.oauth("ehr", ehrSecret, ehrCB, "email")
	code, verifier, _ := e.login(e.browser(), cfg)
	tok, err := cfg.Exchange(e.tokenCtx(), code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	userinfo := func(at string) int {
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/oauth2/userinfo", nil)
		req.Header.Set("Authorization", "Bearer "+at)
		resp, err := e.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	if st := userinfo(tok.AccessToken); st != 200 {
		t.Fatalf("userinfo with a good token = %d", st)
	}
	// An ID token is not an access token.
	if st := userinfo(tok.Extra("id_token").(string)); st == 200 {
		t.Error("userinfo accepted an ID token")
	}
	// A token signed by a key that is not ours.
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: &jose.JSONWebKey{Key: key, KeyID: jwtHeader(t, tok.AccessToken).KeyID}},
		(&jose.SignerOptions{}).WithType("at+jwt"))
	claims := zoidc.NewAccessTokenClaims(e.srv.URL, e.ownerID, []string{"ehr"}, time.Now().Add(time.Hour), "x", "ehr", 0)
	forged, _ := zcrypto.Sign(claims, signer)
	if st := userinfo(forged); st == 200 {
		t.Error("userinfo accepted a token signed by a foreign key")
	}
	// alg none.
	parts := strings.Split(tok.AccessToken, ".")
	if st := userinfo("eyJhbGciOiJub25lIiwidHlwIjoiYXQrand0In0." + parts[1] + "."); st == 200 {
		t.Error("userinfo accepted alg none")
	}
	// An expired token (the brief client's tokens live one second). The
	// provider mints on its clock, set an hour back, while userinfo checks
	// expiry against the real clock: the token has expired when it arrives.
	brief := e.oauth("brief", ehrSecret, ehrCB)
	e.acc.Clock.Advance(-time.Hour)
	code, verifier, _ = e.login(e.browser(), brief)
	btok, err := brief.Exchange(e.tokenCtx(), code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	if st := userinfo(btok.AccessToken); st == 200 {
		t.Error("userinfo accepted an expired token")
	}
}

func TestKeyRotationKeepsOldTokensValid(t *testing.T) {
	e := newEnv(t, store.SQLite)
	cfg := e.oauth("ehr", ehrSecret, ehrCB)
	code, verifier, _ := e.login(e.browser(), cfg)
	tok, err := cfg.Exchange(e.tokenCtx(), code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	oldKid := jwtHeader(t, tok.AccessToken).KeyID
	newKid, activeFrom, err := e.provider.Keys().Rotate(context.Background(), "ES256")
	if err != nil {
		t.Fatal(err)
	}
	if !activeFrom.After(time.Now()) {
		t.Errorf("rotated key signs from %v: it must be published first", activeFrom)
	}
	var jwks jose.JSONWebKeySet
	resp := e.get(e.srv.Client(), "/oauth2/keys")
	_ = jsonDecode(resp, &jwks)
	if len(jwks.Key(newKid)) != 1 || len(jwks.Key(oldKid)) != 1 {
		t.Fatalf("JWKS after rotation lacks the old or new key")
	}
	// Until the new key activates, the old one keeps signing and old tokens verify.
	code, verifier, _ = e.login(e.browser(), cfg)
	tok2, err := cfg.Exchange(e.tokenCtx(), code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	if k := jwtHeader(t, tok2.AccessToken).KeyID; k != oldKid {
		t.Errorf("token signed with %s before the new key's activation, want %s", k, oldKid)
	}
	if _, err := e.rp.UserInfo(e.tokenCtx(), oauth2.StaticTokenSource(tok)); err != nil {
		t.Errorf("old token after rotation: %v", err)
	}
}
