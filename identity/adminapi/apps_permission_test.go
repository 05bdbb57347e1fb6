package adminapi_test

import (
	"encoding/json"
	"strings"
	"testing"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
)

// A registered app may require a permission of the catalogue, set at
// registration and changed later with PATCH; the provider enforces it as for
// a configured client's require_permission: a member without it gets no
// code (the "No access to this app" page), a role change that grants it lets
// them in, and taking it away makes their next refresh fail.
func TestRegisteredAppRequiresPermission(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			h := newHarness(t, engine)
			owner := h.token("sunrise", "owner@sunrise.example", "console")
			base := "/practices/sunrise/apps"
			clin := h.ids["clin@sunrise.example"]
			const need = "billing.view:all" // the scheduler role does not hold it; biller does

			// Only catalogue permissions, written as the catalogue says.
			for _, perm := range []string{"billing.view", "clients.create:all", "nope.view", "app.Ehr.login", "app.*.*", "x"} {
				body := `{"name":"X","redirect_uris":["` + appCB + `"],"confidential":true,"require_permission":"` + perm + `"}`
				if r := h.call("POST", base, owner, body, nil); r.status != 400 || decodeError(t, r) != "invalid_request" {
					t.Errorf("register requiring %q: %d %s", perm, r.status, r.body)
				}
			}
			r := h.call("POST", base, owner, `{"name":"Billing","redirect_uris":["`+appCB+`"],"confidential":true,"require_permission":"`+need+`"}`, nil)
			if r.status != 201 {
				t.Fatalf("register: %d %s", r.status, r.body)
			}
			app := decodeApp(t, r)
			if app.RequirePermission != need {
				t.Fatalf("registered app = %+v", app)
			}
			cfg := &oauth2.Config{ClientID: app.ClientID, ClientSecret: app.ClientSecret, RedirectURL: appCB,
				Endpoint: h.rp.Endpoint(), Scopes: []string{gooidc.ScopeOpenID, gooidc.ScopeOfflineAccess}}

			// Without the permission: no code; the login answers 403, the
			// "No access to this app" page of a PermissionError.
			if _, err := h.login("sunrise", "clin@sunrise.example", cfg); err == nil ||
				!strings.Contains(err.Error(), "stopped at 403") {
				t.Fatalf("a member without %s logged in: %v", need, err)
			}
			// A role change grants it: the member gets in.
			if r := h.call("PUT", "/practices/sunrise/members/"+clin+"/roles", owner, `{"roles":["scheduler","biller"]}`, nil); r.status != 200 {
				t.Fatalf("grant biller: %d %s", r.status, r.body)
			}
			tok, err := h.login("sunrise", "clin@sunrise.example", cfg)
			if err != nil {
				t.Fatalf("login after the grant: %v", err)
			}
			tok, err = cfg.TokenSource(h.ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
			if err != nil {
				t.Fatalf("refresh while holding the permission: %v", err)
			}
			// Taking it away: the next refresh fails.
			if r := h.call("PUT", "/practices/sunrise/members/"+clin+"/roles", owner, `{"roles":["scheduler"]}`, nil); r.status != 200 {
				t.Fatalf("take biller away: %d %s", r.status, r.body)
			}
			if _, err := cfg.TokenSource(h.ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
				t.Fatal("refresh after the permission was taken away worked")
			}

			// PATCH changes it: validated, "" lets every member in again.
			one := base + "/" + app.ClientID
			for _, body := range []string{`{}`, `{"require_permission":"billing.view"}`, `{"require_permission":"nope.view"}`,
				`{"require_permission":"x","name":"Y"}`} {
				if r := h.call("PATCH", one, owner, body, nil); r.status != 400 {
					t.Errorf("PATCH %s: %d %s", body, r.status, r.body)
				}
			}
			r = h.call("PATCH", one, owner, `{"require_permission":""}`, nil)
			if r.status != 200 || decodeApp(t, r).RequirePermission != "" {
				t.Fatalf("PATCH to none: %d %s", r.status, r.body)
			}
			tok, err = h.login("sunrise", "clin@sunrise.example", cfg)
			if err != nil {
				t.Fatalf("login once the app requires nothing: %v", err)
			}
			// Requiring one again stops the next refresh at once.
			r = h.call("PATCH", one, owner, `{"require_permission":"`+need+`"}`, nil)
			if r.status != 200 || decodeApp(t, r).RequirePermission != need {
				t.Fatalf("PATCH back: %d %s", r.status, r.body)
			}
			if _, err := cfg.TokenSource(h.ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
				t.Error("refresh worked after the app began requiring a permission the member lacks")
			}
			// app.*.login is accepted (every member of this preset holding it
			// may log in).
			if r := h.call("PATCH", one, owner, `{"require_permission":"app.*.login"}`, nil); r.status != 200 {
				t.Errorf("PATCH app.*.login: %d %s", r.status, r.body)
			}
			// Another practice cannot change it.
			moon := h.token("moon", "owner@moon.example", "console")
			if r := h.call("PATCH", "/practices/moon/apps/"+app.ClientID, moon, `{"require_permission":""}`, nil); r.status != 404 {
				t.Errorf("PATCH from moon: %d %s", r.status, r.body)
			}

			// Audited with before and after.
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
			want := "require_permission=" + need + " -> require_permission="
			if len(changes) != 3 || !strings.Contains(strings.Join(changes, "|"), want) {
				t.Errorf("app.update audit events = %q (%s)", changes, r.body)
			}
		})
	}
}
