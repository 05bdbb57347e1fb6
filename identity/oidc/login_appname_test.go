package oidc_test

import (
	"net/http"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/frontdeskhq/frontdesk/identity/account"
	fdoidc "github.com/frontdeskhq/frontdesk/identity/oidc"
	"github.com/frontdeskhq/frontdesk/identity/store"
)

// TestLoginPageNamesTheApp: the login page of a pending app login says
// which app the person is logging in to — a registered app's display name,
// else its name, escaped — and keeps saying it after a wrong password; a
// configured client, which has no name, adds nothing.
func TestLoginPageNamesTheApp(t *testing.T) {
	e := newEnv(t, store.SQLite)
	p, err := e.store.PracticeBySlug(e.ctx, "sunrise")
	if err != nil {
		t.Fatal(err)
	}
	const cb = "https://registered.example/cb"
	named, secret, err := e.provider.RegisterApp(e.ctx, p.ID, e.ownerID, fdoidc.AppRequest{Name: "ehr-prod",
		DisplayName: "Notes & <Scheduling>", RedirectURIs: []string{cb}, Confidential: true}, account.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	plain, secret2, err := e.provider.RegisterApp(e.ctx, p.ID, e.ownerID, fdoidc.AppRequest{Name: "Billing",
		RedirectURIs: []string{cb}, Confidential: true}, account.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	loginPage := func(cfg *oauth2.Config) (*http.Client, string) {
		t.Helper()
		c := e.browser()
		resp := e.get(c, cfg.AuthCodeURL("st4te", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()),
			oauth2.SetAuthURLParam("practice", "sunrise"), oauth2.SetAuthURLParam("nonce", "n0nce")))
		for range 4 {
			if resp.StatusCode/100 != 3 {
				break
			}
			loc, _ := resp.Location()
			_ = resp.Body.Close()
			resp = e.get(c, loc.String())
		}
		body := readBody(resp)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, `name="authRequest"`) {
			t.Fatalf("login page: %d\n%s", resp.StatusCode, body)
		}
		return c, body
	}
	for _, tc := range []struct {
		name string
		cfg  *oauth2.Config
		want string // "" : no app line
	}{
		{"display name", e.oauth(named.ClientID, secret, cb), `to continue to <strong>Notes &amp; &lt;Scheduling&gt;</strong>`},
		{"name", e.oauth(plain.ClientID, secret2, cb), `to continue to <strong>Billing</strong>`},
		{"configured client", e.oauth("ehr", ehrSecret, ehrCB), ""},
	} {
		c, body := loginPage(tc.cfg)
		if tc.want == "" {
			if strings.Contains(body, `id="login-app"`) {
				t.Errorf("%s: the login page names an app:\n%s", tc.name, body)
			}
			continue
		}
		if !strings.Contains(body, tc.want) {
			t.Errorf("%s: the login page lacks %q:\n%s", tc.name, tc.want, body)
		}
		m := hiddenAuthRequest.FindStringSubmatch(body)
		again := readBody(e.postLogin(c, m[1], ownerEmail, "not the password at all"))
		if !strings.Contains(again, tc.want) {
			t.Errorf("%s: after a wrong password the page lacks %q", tc.name, tc.want)
		}
	}
}
