package oidc_test

import (
	"context"
	"net/url"
	"testing"

	"golang.org/x/oauth2"

	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
)

// TestRefreshAskingForMoreScopeKeepsTheToken: a refresh that asks for a scope
// the login was not granted is refused with invalid_scope (RFC 6749 §6), but
// the refresh token stays usable. Relying parties such as Authlib and
// mod_auth_openidc send their configured scope again on every refresh; a
// malformed request is not a sign of theft, so it must not log the person out.
func TestRefreshAskingForMoreScopeKeepsTheToken(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			e := newEnv(t, engine)
			ctx := context.WithValue(e.ctx, oauth2.HTTPClient, e.srv.Client())
			cfg := e.oauth("ehr", ehrSecret, ehrCB, "offline_access")
			code, verifier, _ := e.login(e.browser(), cfg, oauth2.SetAuthURLParam("login_hint", ownerEmail))
			tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
			if err != nil || tok.RefreshToken == "" {
				t.Fatalf("exchange: %v (refresh token %q)", err, tok.RefreshToken)
			}
			for _, scope := range []string{"openid offline_access email", "openid roles", "admin"} {
				st, body := e.postForm("/oauth2/token", url.Values{"grant_type": {"refresh_token"},
					"refresh_token": {tok.RefreshToken}, "scope": {scope}}, "ehr", ehrSecret)
				if st != 400 || body["error"] != "invalid_scope" {
					t.Fatalf("refresh asking for %q: %d %v, want 400 invalid_scope", scope, st, body)
				}
			}
			st, body := e.postForm("/oauth2/token", url.Values{"grant_type": {"refresh_token"},
				"refresh_token": {tok.RefreshToken}, "scope": {"openid offline_access"}}, "ehr", ehrSecret)
			if st != 200 || body["refresh_token"] == nil || body["refresh_token"] == tok.RefreshToken {
				t.Fatalf("refresh with the granted scope after the refusals: %d %v", st, body)
			}
		})
	}
}
