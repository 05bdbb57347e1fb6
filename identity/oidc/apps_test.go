package oidc_test

import (
	"errors"
	"testing"
	"time"

	"golang.org/x/oauth2/clientcredentials"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/account/accounttest"
	fdoidc "github.com/frontdeskhq/frontdesk/identity/oidc"
	"github.com/frontdeskhq/frontdesk/identity/store"
)

func TestCheckRedirectURI(t *testing.T) {
	for _, tc := range []struct {
		uri string
		ok  bool
	}{
		{"https://app.example/cb", true},
		{"https://app.example:8443/auth/callback?tenant=1", true},
		{"http://127.0.0.1:8400/cb", true},
		{"http://[::1]:8400/cb", true},
		{"http://127.0.0.1/cb", true},
		{"http://app.example/cb", false},          // plain http off loopback
		{"http://localhost:8400/cb", false},       // a name, not a loopback address
		{"http://127.0.0.1.nip.io/cb", false},     // looks loopback, is not
		{"https://*.app.example/cb", false},       // wildcard
		{"https://app.example/*", false},          // wildcard
		{"https://app.example/cb#x", false},       // fragment
		{"https://app.example/cb#", false},        // empty fragment
		{"https://user:pw@app.example/cb", false}, // user information
		{"https://app.example/c b", false},        // space
		{"https://app.example/cb\n", false},       // control character
		{"https://app.exämple/cb", false},         // not ASCII
		{"https://APP.example/cb", true},          // host case is kept as written; compared exactly
		{"https://app.example/%7Ecb", true},
		{"https://app.example/a/../cb", true}, // kept as written; the provider compares strings
		{"javascript:alert(1)", false},
		{"customscheme://cb", false},
		{"/cb", false},
		{"https:///cb", false},
		{"", false},
	} {
		err := fdoidc.CheckRedirectURI(tc.uri)
		if (err == nil) != tc.ok {
			t.Errorf("CheckRedirectURI(%q) = %v, want ok=%v", tc.uri, err, tc.ok)
		}
		if err != nil && !errors.Is(err, fdoidc.ErrInvalidApp) {
			t.Errorf("CheckRedirectURI(%q) error %v is not ErrInvalidApp", tc.uri, err)
		}
	}
}

// A change made on another replica (straight in the database here) reaches
// this one within AppCacheTTL; a change made through this provider at once.
func TestRegisteredAppCache(t *testing.T) {
	clock := accounttest.NewClock(time.Now())
	e := newEnvClock(t, store.SQLite, clock)
	p, err := e.store.PracticeBySlug(e.ctx, "sunrise")
	if err != nil {
		t.Fatal(err)
	}
	app, secret, err := e.provider.RegisterApp(e.ctx, p.ID, e.ownerID, fdoidc.AppRequest{Name: "Back office",
		GrantTypes: []string{"client_credentials"}, Confidential: true}, account.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	cc := &clientcredentials.Config{ClientID: app.ClientID, ClientSecret: secret, TokenURL: e.rp.Endpoint().TokenURL}
	if _, err := cc.Token(e.ctx); err != nil {
		t.Fatalf("client credentials: %v", err)
	}
	if _, err := e.store.RemoveApp(e.ctx, p.ID, app.ClientID, clock.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := cc.Token(e.ctx); err != nil {
		t.Fatalf("within AppCacheTTL the cached app still answers: %v", err)
	}
	clock.Advance(fdoidc.AppCacheTTL)
	if _, err := cc.Token(e.ctx); err == nil {
		t.Fatal("an app removed on another replica still gets tokens after AppCacheTTL")
	}
	// Through this provider: at once.
	app2, secret2, err := e.provider.RegisterApp(e.ctx, p.ID, e.ownerID, fdoidc.AppRequest{Name: "Back office 2",
		GrantTypes: []string{"client_credentials"}, Confidential: true}, account.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	cc2 := &clientcredentials.Config{ClientID: app2.ClientID, ClientSecret: secret2, TokenURL: e.rp.Endpoint().TokenURL}
	if _, err := cc2.Token(e.ctx); err != nil {
		t.Fatalf("client credentials: %v", err)
	}
	if _, err := e.provider.RemoveApp(e.ctx, p.ID, app2.ClientID, e.ownerID, account.Meta{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cc2.Token(e.ctx); err == nil {
		t.Fatal("an app removed through this provider still gets tokens")
	}
	// Unknown and foreign-looking client IDs are refused without error.
	for _, id := range []string{"app_unknown", "not-an-app", "app_" + string(make([]byte, 100))} {
		cc := &clientcredentials.Config{ClientID: id, ClientSecret: "x", TokenURL: e.rp.Endpoint().TokenURL}
		if _, err := cc.Token(e.ctx); err == nil {
			t.Errorf("client %q got a token", id)
		}
	}
}
