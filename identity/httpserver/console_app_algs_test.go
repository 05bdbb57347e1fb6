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

// The console's apps page chooses an app's ID-token and access-token
// algorithms at registration (RS256 and ES256 preselected) and changes them
// with the tokens form; anything but ES256 or RS256 is refused.
func TestConsoleAppSigningAlgs(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			h := newConsoleSite(t, engine)
			owner := h.Browser()
			if st := owner.Login("sunrise", "owner@sunrise.example", apptest.Password); st != http.StatusSeeOther {
				t.Fatalf("owner login: %d", st)
			}
			if _, _, page := owner.Do("GET", "/p/sunrise/admin/apps", nil, false); !strings.Contains(page, `<option value="RS256" selected>`) ||
				!strings.Contains(page, `<option value="ES256" selected>`) {
				t.Errorf("registration form does not preselect RS256 / ES256:\n%s", page)
			}
			reg := url.Values{"name": {"Billing"}, "redirect_uris": {"https://billing.example/cb"}, "kind": {"confidential"},
				"grant": {"authorization_code"}, "id_token_signed_response_alg": {"HS256"}, "access_token_signing_alg": {"ES256"}}
			if st, _, page := owner.Do("POST", "/p/sunrise/admin/apps", reg, true); st != 400 || !strings.Contains(page, "use ES256 or RS256") {
				t.Errorf("registering with HS256: %d\n%s", st, page)
			}
			reg.Set("id_token_signed_response_alg", "ES256")
			st, _, page := owner.Do("POST", "/p/sunrise/admin/apps", reg, true)
			idm := shownClientID.FindStringSubmatch(page)
			if st != http.StatusCreated || idm == nil {
				t.Fatalf("register app: %d\n%s", st, page)
			}
			clientID := html.UnescapeString(idm[1])
			if a, err := h.App.Store.AppByClientID(h.Ctx, clientID); err != nil || a.IDTokenAlg != "ES256" || a.AccessTokenAlg != "ES256" {
				t.Fatalf("stored app = %+v, %v", a, err)
			}
			action := "/p/sunrise/admin/apps/" + clientID + "/tokens"
			change := url.Values{"backchannel_logout_uri": {""}, "access_token_ttl": {""},
				"id_token_signed_response_alg": {"RS256"}, "access_token_signing_alg": {"RS256"}}
			if st, loc, _ := owner.Do("POST", action, change, true); st != http.StatusSeeOther || !strings.Contains(loc, "done=tokens") {
				t.Fatalf("change algorithms: %d %s", st, loc)
			}
			if a, err := h.App.Store.AppByClientID(h.Ctx, clientID); err != nil || a.IDTokenAlg != "RS256" || a.AccessTokenAlg != "RS256" {
				t.Errorf("after the change: %+v, %v", a, err)
			}
			change.Set("access_token_signing_alg", "none")
			if st, _, page := owner.Do("POST", action, change, true); st != 400 || !strings.Contains(page, "use ES256 or RS256") {
				t.Errorf("changing to none: %d\n%s", st, page)
			}
		})
	}
}
