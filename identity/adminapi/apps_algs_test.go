package adminapi_test

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
)

// jwtAlg is the alg of a compact JWS.
func jwtAlg(t *testing.T, tok string) string {
	t.Helper()
	head, _, _ := strings.Cut(tok, ".")
	raw, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		t.Fatal(err)
	}
	var h struct {
		Alg string `json:"alg"`
	}
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatal(err)
	}
	return h.Alg
}

// A registered app's ID-token and access-token algorithms default to RS256
// and ES256, are chosen at registration or with PATCH (ES256 or RS256 only,
// anything else a 400 that says what to write), reach the tokens, and are
// audited.
func TestRegisteredAppSigningAlgs(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			h := newHarness(t, engine)
			owner := h.token("sunrise", "owner@sunrise.example", "console")
			base := "/practices/sunrise/apps"
			for _, fields := range []string{`"id_token_signed_response_alg":"HS256"`, `"access_token_signing_alg":"none"`,
				`"id_token_signed_response_alg":"rs256"`} {
				r := h.call("POST", base, owner, `{"name":"X","redirect_uris":["`+appCB+`"],"confidential":true,`+fields+`}`, nil)
				if r.status != 400 || !strings.Contains(string(r.body), "use ES256 or RS256") {
					t.Errorf("register with %s: %d %s, want 400 saying ES256 or RS256", fields, r.status, r.body)
				}
			}
			r := h.call("POST", base, owner, `{"name":"Plain","redirect_uris":["`+appCB+`"],"confidential":true}`, nil)
			if r.status != 201 {
				t.Fatalf("register: %d %s", r.status, r.body)
			}
			app := decodeApp(t, r)
			if app.IDTokenSignedResponseAlg != "RS256" || app.AccessTokenSigningAlg != "ES256" {
				t.Errorf("defaults = %s/%s, want RS256/ES256", app.IDTokenSignedResponseAlg, app.AccessTokenSigningAlg)
			}
			cfg := &oauth2.Config{ClientID: app.ClientID, ClientSecret: app.ClientSecret, RedirectURL: appCB,
				Endpoint: h.rp.Endpoint(), Scopes: []string{gooidc.ScopeOpenID}}
			check := func(wantID, wantAT string) {
				t.Helper()
				tok, err := h.login("sunrise", "owner@sunrise.example", cfg)
				if err != nil {
					t.Fatal(err)
				}
				idt, _ := tok.Extra("id_token").(string)
				if got := jwtAlg(t, idt); got != wantID {
					t.Errorf("ID token alg %s, want %s", got, wantID)
				}
				if got := jwtAlg(t, tok.AccessToken); got != wantAT {
					t.Errorf("access token alg %s, want %s", got, wantAT)
				}
			}
			check("RS256", "ES256")

			one := base + "/" + app.ClientID
			if r := h.call("PATCH", one, owner, `{"id_token_signed_response_alg":"PS256"}`, nil); r.status != 400 {
				t.Errorf("PATCH PS256: %d %s", r.status, r.body)
			}
			r = h.call("PATCH", one, owner, `{"id_token_signed_response_alg":"ES256","access_token_signing_alg":"RS256"}`, nil)
			if got := decodeApp(t, r); r.status != 200 || got.IDTokenSignedResponseAlg != "ES256" || got.AccessTokenSigningAlg != "RS256" {
				t.Fatalf("PATCH algorithms: %d %s", r.status, r.body)
			}
			check("ES256", "RS256")

			r = h.call("GET", "/practices/sunrise/audit-events?action=app.update", owner, nil, nil)
			if !strings.Contains(string(r.body), "id_token_signed_response_alg=RS256 access_token_signing_alg=ES256") ||
				!strings.Contains(string(r.body), "id_token_signed_response_alg=ES256 access_token_signing_alg=RS256") {
				t.Errorf("audit of the change: %s", r.body)
			}
		})
	}
}
