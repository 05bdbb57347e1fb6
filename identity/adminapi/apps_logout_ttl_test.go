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

// A registered app's back-channel logout URI and access-token lifetime are
// set at registration and changed with PATCH; bad values are refused with a
// 400 that says what to write; the lifetime reaches the access tokens; the
// changes are audited with before and after.
func TestRegisteredAppLogoutURIAndTTL(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			h := newHarness(t, engine)
			owner := h.token("sunrise", "owner@sunrise.example", "console")
			base := "/practices/sunrise/apps"

			for _, tc := range []struct {
				fields string
				want   string // in the message
			}{
				{`"backchannel_logout_uri":"http://app.example/bcl"`, "must use https"},
				{`"backchannel_logout_uri":"https://app.example/bcl#x"`, "fragment"},
				{`"backchannel_logout_uri":"https://u:p@app.example/bcl"`, "user information"},
				{`"backchannel_logout_uri":"bcl"`, "absolute URL"},
				{`"backchannel_logout_uri":"https://app.example/` + strings.Repeat("a", 2000) + `"`, "2000 characters"},
				{`"access_token_ttl_seconds":59`, "60 to 3600 seconds"},
				{`"access_token_ttl_seconds":3601`, "60 to 3600 seconds"},
				{`"access_token_ttl_seconds":-1`, "0 (the server's default) or 60 to 3600"},
				{`"access_token_ttl_seconds":9223372036854775807`, "0 (the server's default) or 60 to 3600"},
				{`"access_token_ttl_seconds":"1h"`, "not the expected JSON"},
			} {
				body := `{"name":"X","redirect_uris":["` + appCB + `"],"confidential":true,` + tc.fields + `}`
				r := h.call("POST", base, owner, body, nil)
				if r.status != 400 || decodeError(t, r) != "invalid_request" || !strings.Contains(string(r.body), tc.want) {
					t.Errorf("register with %s: %d %s, want 400 saying %q", tc.fields, r.status, r.body, tc.want)
				}
			}

			// Without them: none and the default.
			r := h.call("POST", base, owner, `{"name":"Plain","redirect_uris":["`+appCB+`"],"confidential":true}`, nil)
			if r.status != 201 {
				t.Fatalf("register: %d %s", r.status, r.body)
			}
			if plain := decodeApp(t, r); plain.BackchannelLogoutURI != "" || plain.AccessTokenTTLSeconds != 0 {
				t.Errorf("app registered without them = %+v", plain)
			}

			r = h.call("POST", base, owner, `{"name":"Billing","redirect_uris":["`+appCB+`"],"confidential":true,`+
				`"backchannel_logout_uri":"https://billing.example/bcl","access_token_ttl_seconds":120}`, nil)
			if r.status != 201 {
				t.Fatalf("register: %d %s", r.status, r.body)
			}
			app := decodeApp(t, r)
			if app.BackchannelLogoutURI != "https://billing.example/bcl" || app.AccessTokenTTLSeconds != 120 {
				t.Fatalf("registered app = %+v", app)
			}
			cfg := &oauth2.Config{ClientID: app.ClientID, ClientSecret: app.ClientSecret, RedirectURL: appCB,
				Endpoint: h.rp.Endpoint(), Scopes: []string{gooidc.ScopeOpenID}}
			tok, err := h.login("sunrise", "owner@sunrise.example", cfg)
			if err != nil {
				t.Fatal(err)
			}
			if life := accessTokenLife(t, tok.AccessToken); life != 120 {
				t.Errorf("access token lives %ds, want the app's 120s", life)
			}

			one := base + "/" + app.ClientID
			for _, tc := range []struct {
				body string
				want string
			}{
				{`{}`, "at least one of"},
				{`{"backchannel_logout_uri":"ftp://billing.example/bcl"}`, "must use https"},
				{`{"access_token_ttl_seconds":30}`, "60 to 3600 seconds"},
				{`{"access_token_ttl_seconds":600,"backchannel_logout_uri":"http://x.example/"}`, "must use https"}, // nothing changes
				{`{"access_token_ttl_seconds":600,"name":"Y"}`, "not the expected JSON"},
			} {
				r := h.call("PATCH", one, owner, tc.body, nil)
				if r.status != 400 || !strings.Contains(string(r.body), tc.want) {
					t.Errorf("PATCH %s: %d %s, want 400 saying %q", tc.body, r.status, r.body, tc.want)
				}
			}
			r = h.call("PATCH", one, owner, `{"access_token_ttl_seconds":600}`, nil)
			if got := decodeApp(t, r); r.status != 200 || got.AccessTokenTTLSeconds != 600 || got.BackchannelLogoutURI != app.BackchannelLogoutURI {
				t.Fatalf("PATCH lifetime: %d %s", r.status, r.body)
			}
			if tok, err = h.login("sunrise", "owner@sunrise.example", cfg); err != nil {
				t.Fatal(err)
			}
			if life := accessTokenLife(t, tok.AccessToken); life != 600 {
				t.Errorf("after PATCH the access token lives %ds, want 600s", life)
			}
			r = h.call("PATCH", one, owner, `{"backchannel_logout_uri":"","access_token_ttl_seconds":0}`, nil)
			if got := decodeApp(t, r); r.status != 200 || got.AccessTokenTTLSeconds != 0 || got.BackchannelLogoutURI != "" {
				t.Fatalf("PATCH to none: %d %s", r.status, r.body)
			}
			if r := h.call("GET", base, owner, nil, nil); r.status != 200 || !strings.Contains(string(r.body), `"access_token_ttl_seconds":0`) {
				t.Errorf("list: %d %s", r.status, r.body)
			}
			moon := h.token("moon", "owner@moon.example", "console")
			if r := h.call("PATCH", "/practices/moon/apps/"+app.ClientID, moon, `{"access_token_ttl_seconds":60}`, nil); r.status != 404 {
				t.Errorf("PATCH from moon: %d %s", r.status, r.body)
			}

			r = h.call("GET", "/practices/sunrise/audit-events?action=app.update", owner, nil, nil)
			var page struct {
				Events []struct {
					Action  string            `json:"action"`
					Details map[string]string `json:"details"`
				} `json:"events"`
			}
			_ = json.Unmarshal(r.body, &page)
			var changes []string
			for _, e := range page.Events {
				if e.Action == "app.update" && e.Details["client_id"] == app.ClientID {
					changes = append(changes, e.Details["before"]+" -> "+e.Details["after"])
				}
			}
			all := strings.Join(changes, "|")
			if len(changes) != 2 || !strings.Contains(all, "access_token_ttl=2m0s -> access_token_ttl=10m0s") ||
				!strings.Contains(all, "backchannel_logout_uri=https://billing.example/bcl access_token_ttl=10m0s -> backchannel_logout_uri= access_token_ttl=default") {
				t.Errorf("app.update audit events = %q", changes)
			}
		})
	}
}

// accessTokenLife is exp - iat of a JWT access token, in seconds.
func accessTokenLife(t *testing.T, tok string) int64 {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("access token is not a JWT: %q", tok)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Exp int64 `json:"exp"`
		Iat int64 `json:"iat"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	return c.Exp - c.Iat
}
