package oidc_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"net/url"
	"testing"

	"golang.org/x/oauth2"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/store"
)

// A session started with a temporary password must never yield a code, even
// if a caller reaches the provider directly: the provider refuses, not only
// the login page.
func TestNoCodeForPasswordChangeSession(t *testing.T) {
	e := newEnv(t, store.SQLite)
	b := e.browser()
	resp := e.get(b, e.authorizeURL(baseAuthParams("ehr", ehrCB, oauth2.GenerateVerifier())))
	_ = resp.Body.Close()
	loc, err := resp.Location()
	if err != nil || loc.Path != "/p/sunrise/login" {
		t.Fatalf("authorize = %d %v", resp.StatusCode, loc)
	}
	id := loc.Query().Get("authRequest")

	ctx := context.Background()
	pr, _, err := e.acc.Service.Login(ctx, "sunrise", ownerEmail, ownerPw, account.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	pr.MustChangePassword, pr.Session.MustChangePassword = true, true

	// The same browser (its binding cookie) asks the provider to finish.
	u, _ := url.Parse(e.srv.URL)
	req := httptest.NewRequest("POST", e.srv.URL+"/p/sunrise/login", nil)
	for _, c := range b.Jar.Cookies(u) {
		req.AddCookie(c)
	}
	if _, err := e.provider.CompleteLogin(ctx, req, id, pr); !errors.Is(err, account.ErrPasswordChangeRequired) {
		t.Fatalf("CompleteLogin for a must-change-password session = %v, want ErrPasswordChangeRequired", err)
	}
	// With a normal session the same request completes.
	pr.MustChangePassword, pr.Session.MustChangePassword = false, false
	if _, err := e.provider.CompleteLogin(ctx, req, id, pr); err != nil {
		t.Fatalf("CompleteLogin for a normal session = %v", err)
	}
}
