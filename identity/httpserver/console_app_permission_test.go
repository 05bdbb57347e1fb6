package httpserver_test

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/frontdeskhq/frontdesk/identity/app/apptest"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
)

// The console's apps page sets an app's required permission at registration
// and changes it later, with the same validation as the admin API.
func TestConsoleAppPermission(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			h := newConsoleSite(t, engine)
			owner := h.Browser()
			if st := owner.Login("sunrise", "owner@sunrise.example", apptest.Password); st != http.StatusSeeOther {
				t.Fatalf("owner login: %d", st)
			}
			nobody := h.Browser()
			if st := nobody.Login("sunrise", "nobody@sunrise.example", apptest.Password); st != http.StatusSeeOther {
				t.Fatalf("nobody login: %d", st)
			}
			reg := url.Values{"name": {"Billing"}, "redirect_uris": {"https://billing.example/cb"}, "kind": {"public"},
				"grant": {"authorization_code"}, "require_permission": {"billing.view"}}
			if st, _, page := owner.Do("POST", "/p/sunrise/admin/apps", reg, true); st != 400 || !strings.Contains(page, "needs a scope") ||
				!strings.Contains(page, `id="app-permission" name="require_permission" value="billing.view"`) {
				t.Errorf("registering with an unscoped permission: %d\n%s", st, page)
			}
			reg.Set("require_permission", "billing.view:all")
			st, _, page := owner.Do("POST", "/p/sunrise/admin/apps", reg, true)
			idm := shownClientID.FindStringSubmatch(page)
			if st != http.StatusCreated || idm == nil {
				t.Fatalf("register app: %d\n%s", st, page)
			}
			clientID := html.UnescapeString(idm[1])
			if a, err := h.App.Store.AppByClientID(h.Ctx, clientID); err != nil || a.RequirePermission != "billing.view:all" {
				t.Fatalf("stored app = %+v, %v", a, err)
			}
			if _, _, page := owner.Do("GET", "/p/sunrise/admin/apps", nil, false); !strings.Contains(page,
				`id="perm-`+clientID+`" name="require_permission" value="billing.view:all"`) {
				t.Errorf("apps page does not show the required permission:\n%s", page)
			}

			action := "/p/sunrise/admin/apps/" + clientID + "/permission"
			change := url.Values{"require_permission": {"app.*.login"}}
			if st, _, _ := owner.Do("POST", action, change, false); st != http.StatusForbidden {
				t.Errorf("change without Origin: %d", st)
			}
			if st, _, _ := nobody.Do("POST", action, change, true); st != http.StatusForbidden {
				t.Errorf("change without settings.edit: %d", st)
			}
			if st, _, page := owner.Do("POST", action, url.Values{"require_permission": {"no.such"}}, true); st != 400 ||
				!strings.Contains(page, "catalogue") {
				t.Errorf("unknown permission: %d\n%s", st, page)
			}
			if st, loc, _ := owner.Do("POST", action, change, true); st != http.StatusSeeOther || !strings.Contains(loc, "done=permission") {
				t.Fatalf("change: %d %s", st, loc)
			}
			if a, _ := h.App.Store.AppByClientID(h.Ctx, clientID); a.RequirePermission != "app.*.login" {
				t.Errorf("after the change: %q", a.RequirePermission)
			}
			if st, loc, _ := owner.Do("POST", action, url.Values{"require_permission": {""}}, true); st != http.StatusSeeOther ||
				!strings.Contains(loc, "done=permission") {
				t.Fatalf("clear: %d %s", st, loc)
			}
			if a, _ := h.App.Store.AppByClientID(h.Ctx, clientID); a.RequirePermission != "" {
				t.Errorf("after clearing: %q", a.RequirePermission)
			}
			if st, _, _ := owner.Do("POST", "/p/sunrise/admin/apps/app_nope/permission", change, true); st != http.StatusNotFound {
				t.Errorf("unknown app: %d", st)
			}
		})
	}
}

// The console's apps page sets an app's back-channel logout URI and
// access-token lifetime at registration and changes them later, with the
// provider's validation and the form's CSRF checks.
func TestConsoleAppLogoutURIAndTTL(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			h := newConsoleSite(t, engine)
			owner := h.Browser()
			if st := owner.Login("sunrise", "owner@sunrise.example", apptest.Password); st != http.StatusSeeOther {
				t.Fatalf("owner login: %d", st)
			}
			nobody := h.Browser()
			if st := nobody.Login("sunrise", "nobody@sunrise.example", apptest.Password); st != http.StatusSeeOther {
				t.Fatalf("nobody login: %d", st)
			}
			reg := url.Values{"name": {"Billing"}, "redirect_uris": {"https://billing.example/cb"}, "kind": {"public"},
				"grant": {"authorization_code"}, "backchannel_logout_uri": {"http://billing.example/bcl"}, "access_token_ttl": {"120"}}
			if st, _, page := owner.Do("POST", "/p/sunrise/admin/apps", reg, true); st != 400 || !strings.Contains(page, "must use https") ||
				!strings.Contains(page, `name="backchannel_logout_uri" value="http://billing.example/bcl"`) {
				t.Errorf("registering with an http logout URI: %d\n%s", st, page)
			}
			reg.Set("backchannel_logout_uri", "https://billing.example/bcl")
			reg.Set("access_token_ttl", "soon")
			if st, _, page := owner.Do("POST", "/p/sunrise/admin/apps", reg, true); st != 400 || !strings.Contains(page, "number of seconds") {
				t.Errorf("registering with a lifetime that is not a number: %d\n%s", st, page)
			}
			reg.Set("access_token_ttl", "120")
			st, _, page := owner.Do("POST", "/p/sunrise/admin/apps", reg, true)
			idm := shownClientID.FindStringSubmatch(page)
			if st != http.StatusCreated || idm == nil {
				t.Fatalf("register app: %d\n%s", st, page)
			}
			clientID := html.UnescapeString(idm[1])
			if a, err := h.App.Store.AppByClientID(h.Ctx, clientID); err != nil || a.BackchannelLogoutURI != "https://billing.example/bcl" ||
				a.AccessTokenTTL.Seconds() != 120 {
				t.Fatalf("stored app = %+v, %v", a, err)
			}
			if _, _, page := owner.Do("GET", "/p/sunrise/admin/apps", nil, false); !strings.Contains(page,
				`id="bcl-`+clientID+`" name="backchannel_logout_uri" value="https://billing.example/bcl"`) ||
				!strings.Contains(page, `id="ttl-`+clientID+`" name="access_token_ttl" type="number" min="0" max="3600" value="120"`) {
				t.Errorf("apps page does not show the URI and lifetime:\n%s", page)
			}

			action := "/p/sunrise/admin/apps/" + clientID + "/tokens"
			change := url.Values{"backchannel_logout_uri": {"https://billing.example/logout"}, "access_token_ttl": {"900"}}
			if st, _, _ := owner.Do("POST", action, change, false); st != http.StatusForbidden {
				t.Errorf("change without Origin: %d", st)
			}
			if st, _, _ := nobody.Do("POST", action, change, true); st != http.StatusForbidden {
				t.Errorf("change without settings.edit: %d", st)
			}
			for _, bad := range []url.Values{
				{"backchannel_logout_uri": {"https://billing.example/logout#x"}, "access_token_ttl": {"900"}},
				{"backchannel_logout_uri": {""}, "access_token_ttl": {"7200"}},
				{"backchannel_logout_uri": {""}, "access_token_ttl": {"-5"}},
			} {
				if st, _, _ := owner.Do("POST", action, bad, true); st != 400 {
					t.Errorf("change to %v: %d", bad, st)
				}
			}
			if a, _ := h.App.Store.AppByClientID(h.Ctx, clientID); a.BackchannelLogoutURI != "https://billing.example/bcl" || a.AccessTokenTTL.Seconds() != 120 {
				t.Errorf("a refused change changed the app: %+v", a)
			}
			if st, loc, _ := owner.Do("POST", action, change, true); st != http.StatusSeeOther || !strings.Contains(loc, "done=tokens") {
				t.Fatalf("change: %d %s", st, loc)
			}
			if a, _ := h.App.Store.AppByClientID(h.Ctx, clientID); a.BackchannelLogoutURI != "https://billing.example/logout" || a.AccessTokenTTL.Seconds() != 900 {
				t.Errorf("after the change: %+v", a)
			}
			if st, _, _ := owner.Do("POST", action, url.Values{"backchannel_logout_uri": {""}, "access_token_ttl": {""}}, true); st != http.StatusSeeOther {
				t.Fatalf("clear: %d", st)
			}
			if a, _ := h.App.Store.AppByClientID(h.Ctx, clientID); a.BackchannelLogoutURI != "" || a.AccessTokenTTL != 0 {
				t.Errorf("after clearing: %+v", a)
			}
		})
	}
}
