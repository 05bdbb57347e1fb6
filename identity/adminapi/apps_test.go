package adminapi_test

import (
	"encoding/json"
	"strings"
	"testing"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/frontdeskhq/frontdesk/identity/adminapi"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
)

const appCB = "https://scheduler.example/cb"

// login runs the real authorization-code flow (PKCE) as email in practice
// slug for cfg. It returns the token, or the error the flow stopped with
// (an error redirect to the app, or a refused exchange).
func (h *harness) login(slug, email string, cfg *oauth2.Config) (*oauth2.Token, error) {
	h.t.Helper()
	g, err := h.CodeFlow(h.Browser().Client, slug, email, cfg)
	return g.Token, err
}

func decodeApp(t *testing.T, r apiResponse) adminapi.App {
	t.Helper()
	var a adminapi.App
	if err := json.Unmarshal(r.body, &a); err != nil {
		t.Fatalf("app body %s: %v", r.body, err)
	}
	return a
}

// An app registered through the API logs people in with real go-oidc and
// oauth2 clients; rotating its secret refuses the old one; removing it
// refuses everything, refresh tokens included; it never serves another
// practice.
func TestRegisteredApps(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			h := newHarness(t, engine)
			owner := h.token("sunrise", "owner@sunrise.example", "console")
			base := "/practices/sunrise/apps"

			// Registration, validated strictly.
			for _, body := range []string{
				`{"name":"X","redirect_uris":["https://*.example/cb"],"confidential":true}`,
				`{"name":"X","redirect_uris":["https://a.example/cb#frag"],"confidential":true}`,
				`{"name":"X","redirect_uris":["http://a.example/cb"],"confidential":true}`,
				`{"name":"X","redirect_uris":["http://localhost/cb"],"confidential":true}`,
				`{"name":"X","redirect_uris":["https://user@a.example/cb"],"confidential":true}`,
				`{"name":"X","redirect_uris":["/cb"],"confidential":true}`,
				`{"name":"X","redirect_uris":[],"confidential":true}`,
				`{"name":"X","redirect_uris":["https://a.example/cb"],"grant_types":["implicit"],"confidential":true}`,
				`{"name":"X","redirect_uris":["https://a.example/cb"],"grant_types":["client_credentials"],"confidential":false}`,
				`{"name":"X","redirect_uris":["https://a.example/cb"],"grant_types":["refresh_token"],"confidential":true}`,
				`{"name":"Line\nbreak","redirect_uris":["https://a.example/cb"],"confidential":true}`,
				`{"name":"","redirect_uris":["https://a.example/cb"],"confidential":true}`,
				`{"name":"X","redirect_uris":["https://a.example/cb"]}`,
			} {
				if r := h.call("POST", base, owner, body, nil); r.status != 400 || decodeError(t, r) != "invalid_request" {
					t.Errorf("register %s: %d %s", body, r.status, r.body)
				}
			}
			key := map[string]string{"Idempotency-Key": "app-1"}
			reg := `{"name":"Scheduler","redirect_uris":["` + appCB + `","http://127.0.0.1:8400/cb"],` +
				`"grant_types":["authorization_code","refresh_token","client_credentials"],"confidential":true}`
			r := h.call("POST", base, owner, reg, key)
			if r.status != 201 {
				t.Fatalf("register: %d %s", r.status, r.body)
			}
			app := decodeApp(t, r)
			if !strings.HasPrefix(app.ClientID, "app_") || len(app.ClientSecret) < 43 || !app.Confidential {
				t.Fatalf("registered app = %+v", app)
			}
			// A replay answers the same app without the secret, which is
			// stored nowhere but as a hash.
			replay := h.call("POST", base, owner, reg, key)
			if replay.status != 201 || replay.header.Get("Idempotent-Replayed") != "true" ||
				decodeApp(t, replay).ClientID != app.ClientID || strings.Contains(string(replay.body), app.ClientSecret) {
				t.Errorf("replay: %d %s", replay.status, replay.body)
			}
			list := h.call("GET", base, owner, nil, nil)
			if list.status != 200 || !strings.Contains(string(list.body), app.ClientID) || strings.Contains(string(list.body), "client_secret") {
				t.Errorf("list: %d %s", list.status, list.body)
			}
			pub := decodeApp(t, h.call("POST", base, owner, `{"name":"Tablet","redirect_uris":["http://[::1]:7000/cb"],"confidential":false}`, nil))
			if pub.ClientSecret != "" || pub.Confidential {
				t.Errorf("public app = %+v", pub)
			}
			if r := h.call("POST", base+"/"+pub.ClientID+"/rotate-secret", owner, nil, nil); r.status != 400 {
				t.Errorf("rotating a public app: %d %s", r.status, r.body)
			}

			// The code flow works with the registered app.
			cfg := &oauth2.Config{ClientID: app.ClientID, ClientSecret: app.ClientSecret, RedirectURL: appCB,
				Endpoint: h.rp.Endpoint(), Scopes: []string{gooidc.ScopeOpenID, gooidc.ScopeOfflineAccess, "email", "roles"}}
			tok, err := h.login("sunrise", "clin@sunrise.example", cfg)
			if err != nil {
				t.Fatalf("code flow with the registered app: %v", err)
			}
			raw, _ := tok.Extra("id_token").(string)
			idt, err := h.rp.Verifier(&gooidc.Config{ClientID: app.ClientID}).Verify(h.ctx, raw)
			if err != nil {
				t.Fatalf("ID token: %v", err)
			}
			var claims struct {
				Practice string `json:"practice"`
				Email    string `json:"email"`
			}
			// The practice comes with the roles scope; email from userinfo.
			if err := idt.Claims(&claims); err != nil || claims.Practice != "sunrise" || claims.Email != "" ||
				idt.Subject != h.ids["clin@sunrise.example"] {
				t.Errorf("ID token claims = %+v (%v), sub %s", claims, err, idt.Subject)
			}
			if ui, err := h.rp.UserInfo(h.ctx, oauth2.StaticTokenSource(tok)); err != nil || ui.Email != "clin@sunrise.example" {
				t.Errorf("userinfo: %+v, %v", ui, err)
			}
			if tok.RefreshToken == "" {
				t.Fatal("no refresh token with offline_access")
			}
			// The app is bound to its practice: moon's members cannot use it.
			if _, err := h.login("moon", "owner@moon.example", cfg); err == nil || !strings.Contains(err.Error(), "another practice") {
				t.Errorf("sunrise's app logged in moon's owner: %v", err)
			}
			cc := &clientcredentials.Config{ClientID: app.ClientID, ClientSecret: app.ClientSecret, TokenURL: h.rp.Endpoint().TokenURL}
			if _, err := cc.Token(h.ctx); err != nil {
				t.Errorf("client credentials: %v", err)
			}
			// Another app's token is not an admin token.
			if r := h.call("GET", "/practices/sunrise/members", tok.AccessToken, nil, nil); r.status != 401 {
				t.Errorf("a registered app's token at the admin API: %d", r.status)
			}

			// Rotation: the new secret works, the old one is refused.
			r = h.call("POST", base+"/"+app.ClientID+"/rotate-secret", owner, nil, map[string]string{"Idempotency-Key": "rot-1"})
			rotated := decodeApp(t, r)
			if r.status != 200 || rotated.ClientSecret == "" || rotated.ClientSecret == app.ClientSecret || rotated.SecretRotatedAt == nil {
				t.Fatalf("rotate: %d %s", r.status, r.body)
			}
			if _, err := cc.Token(h.ctx); err == nil {
				t.Error("the old secret still works after rotation")
			}
			if _, err := cfg.TokenSource(h.ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
				t.Error("refresh with the old secret worked")
			}
			cc.ClientSecret, cfg.ClientSecret = rotated.ClientSecret, rotated.ClientSecret
			if _, err := cc.Token(h.ctx); err != nil {
				t.Errorf("client credentials with the new secret: %v", err)
			}
			tok, err = h.login("sunrise", "clin@sunrise.example", cfg)
			if err != nil {
				t.Fatalf("code flow after rotation: %v", err)
			}
			refreshed, err := cfg.TokenSource(h.ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
			if err != nil {
				t.Fatalf("refresh with the new secret: %v", err)
			}

			// Another practice cannot see, rotate or remove it.
			moon := h.token("moon", "owner@moon.example", "console")
			for _, c := range []struct{ method, path string }{
				{"POST", "/practices/moon/apps/" + app.ClientID + "/rotate-secret"},
				{"DELETE", "/practices/moon/apps/" + app.ClientID},
			} {
				if r := h.call(c.method, c.path, moon, nil, nil); r.status != 404 {
					t.Errorf("%s %s from moon: %d %s", c.method, c.path, r.status, r.body)
				}
			}
			if r := h.call("GET", "/practices/moon/apps", moon, nil, nil); r.status != 200 || strings.Contains(string(r.body), app.ClientID) {
				t.Errorf("moon's app list: %d %s", r.status, r.body)
			}

			// Removal: nothing works any more, refresh tokens included.
			r = h.call("DELETE", base+"/"+app.ClientID, owner, nil, nil)
			if r.status != 200 || !strings.Contains(string(r.body), `"removed":true`) {
				t.Fatalf("remove: %d %s", r.status, r.body)
			}
			if _, err := cc.Token(h.ctx); err == nil {
				t.Error("client credentials after removal")
			}
			if _, err := cfg.TokenSource(h.ctx, &oauth2.Token{RefreshToken: refreshed.RefreshToken}).Token(); err == nil {
				t.Error("refresh after removal")
			}
			if _, err := h.login("sunrise", "clin@sunrise.example", cfg); err == nil {
				t.Error("code flow after removal")
			}
			if r := h.call("DELETE", base+"/"+app.ClientID, owner, nil, nil); r.status != 404 {
				t.Errorf("remove twice: %d %s", r.status, r.body)
			}

			// Each change is audited with before and after, and no secret.
			r = h.call("GET", "/practices/sunrise/audit-events?action=app.", owner, nil, nil)
			var page struct {
				Events []struct {
					Action  string            `json:"action"`
					Details map[string]string `json:"details"`
				} `json:"events"`
			}
			_ = json.Unmarshal(r.body, &page)
			seen := map[string]bool{}
			for _, e := range page.Events {
				seen[e.Action] = true
				if _, ok := e.Details["after"]; !ok {
					t.Errorf("%s without after: %v", e.Action, e.Details)
				}
			}
			if !seen["app.register"] || !seen["app.rotate_secret"] || !seen["app.remove"] {
				t.Errorf("audit events: %s", r.body)
			}
			if strings.Contains(string(r.body), app.ClientSecret) || strings.Contains(string(r.body), rotated.ClientSecret) {
				t.Error("a client secret reached the audit trail")
			}
		})
	}
}
