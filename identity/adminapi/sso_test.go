package adminapi_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
)

// TestSSOProvidersAPI: add, list and remove a practice's SSO providers; the
// client secret is write-only; every response matches docs/openapi.yaml.
func TestSSOProvidersAPI(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			h := newHarness(t, engine)
			owner := h.token("sunrise", "owner@sunrise.example", "console")
			nobody := h.token("sunrise", "nobody@sunrise.example", "console")
			moon := h.token("moon", "owner@moon.example", "console")
			ehr := h.token("sunrise", "owner@sunrise.example", "ehr")
			const secret = "super-secret-value-0123456789"
			body := `{"kind":"entra","tenant":"72f988bf-86f1-41af-91ab-2d7cd011db47","client_id":"app-1",` +
				`"client_secret":"` + secret + `","allowed_domains":["sunrise.example"]}`
			base := "/practices/sunrise/sso-providers"

			cases := []struct {
				name, method, path, token, body string
				status                          int
				code                            string
			}{
				{"no token", "GET", base, "", "", 401, "unauthorized"},
				{"garbage token", "POST", base, "not.a.token", body, 401, "invalid_token"},
				{"token for another app", "DELETE", base + "/x", ehr, "", 401, "invalid_token"},
				{"member without settings.edit", "POST", base, nobody, body, 403, "forbidden"},
				{"member without settings.edit deletes", "DELETE", base + "/x", nobody, "", 403, "forbidden"},
				{"member without settings.view", "GET", base, nobody, "", 403, "forbidden"},
				{"another practice", "GET", base, moon, "", 404, "not_found"},
				{"generic over http", "POST", base, owner, `{"kind":"generic","display_name":"X","issuer":"http://idp.example","client_id":"a","client_secret":"b"}`, 400, "invalid_request"},
				// F2: issuers frontdesk would fetch from its own network are
				// refused up front (they answered 201 before).
				{"generic on loopback (F2)", "POST", base, owner, `{"kind":"generic","display_name":"X","issuer":"https://127.0.0.1:9260","client_id":"a","client_secret":"b"}`, 400, "invalid_request"},
				{"generic on cloud metadata (F2)", "POST", base, owner, `{"kind":"generic","display_name":"X","issuer":"https://169.254.169.254/latest/meta-data","client_id":"a","client_secret":"b"}`, 400, "invalid_request"},
				{"generic on IPv4-compatible loopback (P10)", "POST", base, owner, `{"kind":"generic","display_name":"X","issuer":"https://[::127.0.0.1]","client_id":"a","client_secret":"b"}`, 400, "invalid_request"},
				{"generic on localhost (F2)", "POST", base, owner, `{"kind":"generic","display_name":"X","issuer":"https://localhost:9260","client_id":"a","client_secret":"b"}`, 400, "invalid_request"},
				{"unknown kind", "POST", base, owner, `{"kind":"okta","client_id":"a","client_secret":"b"}`, 400, "invalid_request"},
				{"no secret", "POST", base, owner, `{"kind":"google","client_id":"a"}`, 400, "invalid_request"},
				{"unknown field", "POST", base, owner, `{"kind":"google","client_id":"a","client_secret":"b","x":1}`, 400, "invalid_request"},
				{"delete unknown", "DELETE", base + "/nope", owner, "", 404, "not_found"},
			}
			for _, tc := range cases {
				r := h.call(tc.method, tc.path, tc.token, nilIfEmpty(tc.body), nil)
				if r.status != tc.status || decodeError(t, r) != tc.code {
					t.Errorf("%s: %d %s", tc.name, r.status, r.body)
				}
				// The refusal names the fix.
				if strings.Contains(tc.name, "F2") && !strings.Contains(string(r.body), "outbound.allowed_ranges") {
					t.Errorf("%s: the message does not name outbound.allowed_ranges: %s", tc.name, r.body)
				}
			}

			r := h.call("POST", base, owner, body, nil)
			if r.status != 201 || strings.Contains(string(r.body), secret) {
				t.Fatalf("create: %d %s", r.status, r.body)
			}
			var p struct {
				ID          string `json:"id"`
				Issuer      string `json:"issuer"`
				DisplayName string `json:"display_name"`
				RedirectURI string `json:"redirect_uri"`
			}
			if err := json.Unmarshal(r.body, &p); err != nil {
				t.Fatal(err)
			}
			if p.Issuer != "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0" ||
				p.DisplayName != "Microsoft" || !strings.HasSuffix(p.RedirectURI, "/p/sunrise/sso/callback") {
				t.Errorf("created = %+v", p)
			}
			if r := h.call("POST", base, owner, body, nil); r.status != 409 || decodeError(t, r) != "already_exists" {
				t.Errorf("duplicate: %d %s", r.status, r.body)
			}
			r = h.call("GET", base, owner, nil, nil)
			if r.status != 200 || !strings.Contains(string(r.body), p.ID) || strings.Contains(string(r.body), secret) ||
				strings.Contains(string(r.body), "client_secret") {
				t.Fatalf("list: %d %s", r.status, r.body)
			}
			if r := h.call("GET", "/practices/moon/sso-providers", moon, nil, nil); r.status != 200 || strings.Contains(string(r.body), p.ID) {
				t.Errorf("moon sees sunrise's provider: %s", r.body)
			}
			if r := h.call("DELETE", "/practices/moon/sso-providers/"+p.ID, moon, nil, nil); r.status != 404 {
				t.Errorf("moon deletes sunrise's provider: %d", r.status)
			}
			if r := h.call("DELETE", base+"/"+p.ID, owner, nil, nil); r.status != 204 {
				t.Fatalf("delete: %d %s", r.status, r.body)
			}
			if r := h.call("DELETE", base+"/"+p.ID, owner, nil, nil); r.status != 404 {
				t.Errorf("delete twice: %d", r.status)
			}
			evs, err := h.app.Store.ListAudit(h.ctx, h.sunrise.ID, 100)
			if err != nil {
				t.Fatal(err)
			}
			var actions []string
			for _, e := range evs {
				if strings.HasPrefix(e.Action, "sso.") {
					actions = append(actions, e.Action+"/"+e.Outcome)
					for _, v := range e.Details {
						if strings.Contains(v, secret) {
							t.Error("the secret is in the audit trail")
						}
					}
				}
			}
			if want := "sso.provider.remove/success sso.provider.add/success"; !strings.Contains(strings.Join(actions, " "), want) {
				t.Errorf("audit = %v", actions)
			}
		})
	}
}
