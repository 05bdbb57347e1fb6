package oidc_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/account/accounttest"
	fdoidc "github.com/frontdeskhq/frontdesk/identity/oidc"
	"github.com/frontdeskhq/frontdesk/identity/outbound"
	"github.com/frontdeskhq/frontdesk/identity/problem"
	"github.com/frontdeskhq/frontdesk/identity/store"
)

func TestCheckBackchannelLogoutURI(t *testing.T) {
	for _, tc := range []struct {
		uri string
		ok  bool
	}{
		{"", true}, // none
		{"https://app.example/logout", true},
		{"https://app.example:8443/bcl?tenant=1", true},
		{"http://127.0.0.1:9000/bcl", true}, // accepted, but refused when connecting (identity/outbound)
		{"http://[::1]:9000/bcl", true},
		{"http://app.example/logout", false},          // plain http off loopback
		{"http://localhost:9000/bcl", false},          // a name, not a loopback address (as for redirect URIs)
		{"https://app.example/logout#x", false},       // fragment
		{"https://user:pw@app.example/logout", false}, // user information
		{"https://app.example/lo gout", false},
		{"ftp://app.example/logout", false},
		{"/logout", false},
		{"https://app.example/" + strings.Repeat("a", 2000), false}, // too long
	} {
		err := fdoidc.CheckBackchannelLogoutURI(tc.uri)
		if (err == nil) != tc.ok {
			t.Errorf("CheckBackchannelLogoutURI(%q) = %v, want ok=%v", tc.uri, err, tc.ok)
		}
		if err != nil && (!errors.Is(err, fdoidc.ErrInvalidApp) || !strings.Contains(err.Error(), "back-channel logout URI")) {
			t.Errorf("CheckBackchannelLogoutURI(%q) error %v is not a back-channel logout ErrInvalidApp", tc.uri, err)
		}
	}
}

func TestCheckAccessTokenTTL(t *testing.T) {
	for _, tc := range []struct {
		ttl time.Duration
		ok  bool
	}{
		{0, true}, // the provider's default
		{time.Minute, true},
		{90 * time.Second, true},
		{time.Hour, true},
		{59 * time.Second, false},
		{time.Hour + time.Second, false},
		{-time.Minute, false},
		{90*time.Second + time.Millisecond, false}, // not whole seconds
	} {
		err := fdoidc.CheckAccessTokenTTL(tc.ttl)
		if (err == nil) != tc.ok {
			t.Errorf("CheckAccessTokenTTL(%v) = %v, want ok=%v", tc.ttl, err, tc.ok)
		}
		if err != nil && !errors.Is(err, fdoidc.ErrInvalidApp) {
			t.Errorf("CheckAccessTokenTTL(%v) error %v is not ErrInvalidApp", tc.ttl, err)
		}
	}
}

// registerLogoutApp registers a confidential app of sunrise whose
// back-channel logout URI is the env's logout sink (on loopback).
func registerLogoutApp(t *testing.T, e *env, ttl time.Duration) (store.App, *oauth2.Config) {
	t.Helper()
	p, err := e.store.PracticeBySlug(e.ctx, "sunrise")
	if err != nil {
		t.Fatal(err)
	}
	const cb = "https://registered.example/cb"
	app, secret, err := e.provider.RegisterApp(e.ctx, p.ID, e.ownerID, fdoidc.AppRequest{Name: "Registered EHR",
		RedirectURIs: []string{cb}, Confidential: true, BackchannelLogoutURI: "https://bcl.example/app-bcl",
		AccessTokenTTL: ttl}, account.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	// The receiver listens on loopback, which registration refuses unless
	// the operator allows it (TestBackchannelLogoutURIRefusedWhenUnreachable):
	// it is written straight to the store, as an app registered before
	// registration checked addresses would hold it, so that delivery's own
	// check on connecting is what these tests see.
	app.BackchannelLogoutURI = e.logouts.srv.URL + "/app-bcl"
	if err := e.store.SetAppBackchannelLogoutURI(e.ctx, p.ID, app.ClientID, app.BackchannelLogoutURI, time.Now()); err != nil {
		t.Fatal(err)
	}
	if app.BackchannelLogoutURI != e.logouts.srv.URL+"/app-bcl" || app.AccessTokenTTL != ttl {
		t.Fatalf("registered app = %+v", app)
	}
	return app, e.oauth(app.ClientID, secret, cb, "offline_access")
}

// A registered app with a back-channel logout URI gets a logout token when
// the member's browser session ends and when the member is deactivated, and
// its access tokens have its own lifetime. The receiver listens on loopback,
// so the operator's allow-list (outbound.allowed_ranges) names it, as an
// operator would name an on-premises app's network.
func TestRegisteredAppBackchannelLogout(t *testing.T) {
	guard, err := outbound.New([]string{"127.0.0.0/8", "::1"})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvDeps(t, store.SQLite, accounttest.NewClock(time.Now()), func(d *fdoidc.Deps) { d.Outbound = guard })
	app, cfg := registerLogoutApp(t, e, 90*time.Second)
	b := e.browser()
	code, verifier, _ := e.login(b, cfg)
	tok, err := cfg.Exchange(e.tokenCtx(), code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	at := jwtClaims(t, tok.AccessToken)
	if exp, iat := at["exp"].(float64), at["iat"].(float64); exp-iat != 90 {
		t.Errorf("access token lives %vs, want the app's 90s", exp-iat)
	}
	if in, _ := tok.Extra("expires_in").(float64); in < 85 || in > 90 {
		t.Errorf("expires_in = %v, want 90", tok.Extra("expires_in"))
	}
	sid, _ := at["sid"].(string)

	before := len(e.logouts.received())
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/p/sunrise/logout", strings.NewReader(""))
	req.Header.Set("Origin", e.srv.URL)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := b.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	got := e.logouts.received()
	if len(got) != before+1 {
		t.Fatalf("%d logout tokens delivered, want 1", len(got)-before)
	}
	c := jwtClaims(t, got[len(got)-1])
	if aud, _ := c["aud"].([]any); len(aud) != 1 || aud[0] != app.ClientID || c["sid"] != sid || c["sub"] != e.ownerID {
		t.Errorf("logout token claims = %v, want aud %s sid %s", c, app.ClientID, sid)
	}

	// Deactivation: by sub, to the app that holds a refresh token.
	code, verifier, _ = e.login(e.browser(), cfg)
	if _, err := cfg.Exchange(e.tokenCtx(), code, oauth2.VerifierOption(verifier)); err != nil {
		t.Fatal(err)
	}
	before = len(e.logouts.received())
	if err := e.provider.MemberDeactivated(e.ctx, app.PracticeID, e.ownerID); err != nil {
		t.Fatal(err)
	}
	if got := e.logouts.received(); len(got) != before+1 || jwtClaims(t, got[len(got)-1])["sid"] != nil {
		t.Errorf("deactivation: %d logout tokens, want 1 without sid", len(got)-before)
	}
}

// Without the operator's allow-list, the provider's default refuses to
// connect to the loopback receiver a registered app named: nothing is
// delivered (while a configured client's loopback URI still is).
func TestRegisteredAppBackchannelGuardedByDefault(t *testing.T) {
	e := newEnv(t, store.SQLite)
	_, cfg := registerLogoutApp(t, e, 0)
	ehr := e.oauth("ehr", ehrSecret, ehrCB, "offline_access")
	b := e.browser()
	for _, c := range []*oauth2.Config{cfg, ehr} {
		code, verifier, _ := e.login(b, c)
		tok, err := c.Exchange(e.tokenCtx(), code, oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatal(err)
		}
		if c == cfg {
			if at := jwtClaims(t, tok.AccessToken); at["exp"].(float64)-at["iat"].(float64) != 300 {
				t.Errorf("an app without its own lifetime got %vs, want the provider's 300s", at["exp"].(float64)-at["iat"].(float64))
			}
		}
	}
	before := len(e.logouts.received())
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/p/sunrise/logout", strings.NewReader(""))
	req.Header.Set("Origin", e.srv.URL)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := b.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	got := e.logouts.received()
	if len(got) != before+1 {
		t.Fatalf("%d logout tokens delivered, want 1 (the configured client's only)", len(got)-before)
	}
	if aud, _ := jwtClaims(t, got[len(got)-1])["aud"].([]any); len(aud) != 1 || aud[0] != "ehr" {
		t.Errorf("delivered logout token is for %v, want ehr", aud)
	}
}

// PATCH-style updates are checked, applied at once and audited with before
// and after of the fields that changed.
func TestUpdateAppLogoutAndTTL(t *testing.T) {
	e := newEnv(t, store.SQLite)
	app, _ := registerLogoutApp(t, e, 0)
	str := func(s string) *string { return &s }
	dur := func(d time.Duration) *time.Duration { return &d }
	for _, upd := range []fdoidc.AppUpdate{
		{BackchannelLogoutURI: str("http://app.example/bcl")},
		{AccessTokenTTL: dur(30 * time.Second)},
		{AccessTokenTTL: dur(2 * time.Hour)},
		{BackchannelLogoutURI: str("https://ok.example/bcl"), AccessTokenTTL: dur(time.Second)}, // nothing is written
	} {
		if _, err := e.provider.UpdateApp(e.ctx, app.PracticeID, app.ClientID, e.ownerID, upd, account.Meta{}); !errors.Is(err, fdoidc.ErrInvalidApp) {
			t.Errorf("UpdateApp(%+v) = %v, want ErrInvalidApp", upd, err)
		}
	}
	got, err := e.provider.UpdateApp(e.ctx, app.PracticeID, app.ClientID, e.ownerID,
		fdoidc.AppUpdate{BackchannelLogoutURI: str("https://ok.example/bcl"), AccessTokenTTL: dur(10 * time.Minute)}, account.Meta{})
	if err != nil || got.BackchannelLogoutURI != "https://ok.example/bcl" || got.AccessTokenTTL != 10*time.Minute {
		t.Fatalf("UpdateApp = %+v, %v", got, err)
	}
	all, err := e.store.ListAudit(e.ctx, app.PracticeID, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var events []store.AuditEvent
	for _, ev := range all {
		if ev.Action == "app.update" {
			events = append(events, ev)
		}
	}
	if len(events) != 1 {
		t.Fatalf("app.update events = %+v", events)
	}
	d := events[0].Details
	if d["before"] != "backchannel_logout_uri="+app.BackchannelLogoutURI+" access_token_ttl=default" ||
		d["after"] != "backchannel_logout_uri=https://ok.example/bcl access_token_ttl=10m0s" || d["client_id"] != app.ClientID {
		t.Errorf("audit details = %v", d)
	}
}

// fixedResolver answers every name with the same addresses.
type fixedResolver map[string][]netip.Addr

func (r fixedResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if a, ok := r[host]; ok {
		return a, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

// A back-channel logout URI that delivery would refuse (identity/outbound)
// is refused when the app is registered or changed, with what to do, as an
// SSO issuer's host is: a literal loopback, private or link-local address,
// or a name whose every address is one; a name that does not resolve now
// is accepted (each delivery is checked when it connects), and so is an
// address in the operator's outbound.allowed_ranges.
func TestBackchannelLogoutURIRefusedWhenUnreachable(t *testing.T) {
	guard, err := outbound.New([]string{"10.20.0.0/16"})
	if err != nil {
		t.Fatal(err)
	}
	res := fixedResolver{
		"intranet.example": {netip.MustParseAddr("192.168.1.5")},
		"mixed.example":    {netip.MustParseAddr("192.168.1.5"), netip.MustParseAddr("1.1.1.1")},
		"onprem.example":   {netip.MustParseAddr("10.20.3.4")},
		"public.example":   {netip.MustParseAddr("1.1.1.1")},
	}
	e := newEnvDeps(t, store.SQLite, accounttest.NewClock(time.Now()), func(d *fdoidc.Deps) {
		d.Outbound, d.Resolver = guard, res
	})
	p, err := e.store.PracticeBySlug(e.ctx, "sunrise")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		uri string
		ok  bool
	}{
		{"http://127.0.0.1:9000/bcl", false},         // loopback
		{"http://[::1]:9000/bcl", false},             // loopback
		{"https://192.168.1.5/bcl", false},           // private
		{"https://169.254.169.254/bcl", false},       // link-local (cloud metadata)
		{"https://intranet.example/bcl", false},      // a name resolving only to a private address
		{"https://mixed.example/bcl", true},          // one public address: the dialer decides per connection
		{"https://onprem.example/bcl", true},         // in outbound.allowed_ranges
		{"https://10.20.0.9/bcl", true},              // in outbound.allowed_ranges
		{"https://public.example/bcl", true},         // public
		{"https://not-yet-in-dns.example/bcl", true}, // does not resolve now
	} {
		t.Run(tc.uri, func(t *testing.T) {
			app, _, err := e.provider.RegisterApp(e.ctx, p.ID, e.ownerID, fdoidc.AppRequest{Name: "Billing",
				RedirectURIs: []string{"https://billing.example/cb"}, Confidential: true, BackchannelLogoutURI: tc.uri},
				account.Meta{})
			if (err == nil) != tc.ok {
				t.Fatalf("RegisterApp with %s: %v, want ok=%v", tc.uri, err, tc.ok)
			}
			if err != nil {
				if !errors.Is(err, fdoidc.ErrInvalidApp) || !strings.Contains(publicText(err), "outbound.allowed_ranges") {
					t.Errorf("RegisterApp with %s: %v (public %q), want ErrInvalidApp saying what to do", tc.uri, err, publicText(err))
				}
				return
			}
			// Changing a registered app's URI is checked the same way.
			loopback := "http://127.0.0.1:9/bcl"
			_, err = e.provider.UpdateApp(e.ctx, p.ID, app.ClientID, e.ownerID,
				fdoidc.AppUpdate{BackchannelLogoutURI: &loopback}, account.Meta{})
			if !errors.Is(err, fdoidc.ErrInvalidApp) {
				t.Errorf("UpdateApp to a loopback URI: %v, want ErrInvalidApp", err)
			}
		})
	}
}

func publicText(err error) string {
	if p, ok := problem.As(err); ok {
		return p.Public
	}
	return ""
}
