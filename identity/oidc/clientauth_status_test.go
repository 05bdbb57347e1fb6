package oidc_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/frontdeskhq/frontdesk/identity/account"
	fdoidc "github.com/frontdeskhq/frontdesk/identity/oidc"
	"github.com/frontdeskhq/frontdesk/identity/store"
)

// TestFailedClientAuthenticationIs401: a wrong secret, or an unknown client,
// at the token endpoint is invalid_client with 401 Unauthorized (RFC 6749
// section 5.2), whether the client authenticates with HTTP Basic or in the
// form body, with WWW-Authenticate naming Basic when the client used it;
// so is it at the revocation endpoint (RFC 7009 section 2.1).
func TestFailedClientAuthenticationIs401(t *testing.T) {
	e := newEnv(t, store.SQLite)
	p, err := e.store.PracticeBySlug(e.ctx, "sunrise")
	if err != nil {
		t.Fatal(err)
	}
	app, _, err := e.provider.RegisterApp(e.ctx, p.ID, e.ownerID, fdoidc.AppRequest{Name: "Back office",
		GrantTypes: []string{"client_credentials"}, Confidential: true}, account.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	for _, style := range []struct {
		name  string
		style oauth2.AuthStyle
	}{{"basic", oauth2.AuthStyleInHeader}, {"form", oauth2.AuthStyleInParams}} {
		for name, id := range map[string]string{"wrong secret": app.ClientID, "unknown client": "app_unknown"} {
			cc := &clientcredentials.Config{ClientID: id, ClientSecret: "not the secret", TokenURL: e.rp.Endpoint().TokenURL,
				AuthStyle: style.style}
			_, err := cc.Token(e.ctx)
			var re *oauth2.RetrieveError
			if !errors.As(err, &re) || re.Response.StatusCode != 401 || re.ErrorCode != "invalid_client" {
				status := 0
				if re != nil {
					status = re.Response.StatusCode
				}
				t.Errorf("%s, %s: %v (status %d), want 401 invalid_client", style.name, name, err, status)
				continue
			}
			// RFC 6749 5.2: a client that used the Authorization header is
			// told the scheme to use.
			if got := re.Response.Header.Get("WWW-Authenticate"); (got != "") != (style.style == oauth2.AuthStyleInHeader) ||
				(got != "" && !strings.HasPrefix(got, "Basic ")) {
				t.Errorf("%s, %s: WWW-Authenticate %q", style.name, name, got)
			}
		}
	}
	revoke := strings.Replace(e.rp.Endpoint().TokenURL, "/token", "/revoke", 1)
	req, err := http.NewRequestWithContext(e.ctx, "POST", revoke, strings.NewReader("token=whatever"))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(app.ClientID, "not the secret")
	resp, err := oauth2.NewClient(e.ctx, nil).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic ") {
		t.Errorf("revocation with a wrong secret: %d, WWW-Authenticate %q; want 401 with Basic", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
}
