package oidc_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/frontdeskhq/frontdesk/identity/store"
)

// signedIn reports whether browser b's session still works.
func (e *env) signedIn(b *http.Client) bool {
	e.t.Helper()
	resp := e.get(b, "/p/sunrise/")
	_ = resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// loggedInApp signs a fresh browser in through ehr and returns it with its
// tokens.
func (e *env) loggedInApp() (*http.Client, *oauth2.Token, *oauth2.Config) {
	e.t.Helper()
	cfg := e.oauth("ehr", ehrSecret, ehrCB, "offline_access")
	b := e.browser()
	code, verifier, _ := e.login(b, cfg)
	tok, err := cfg.Exchange(e.tokenCtx(), code, oauth2.VerifierOption(verifier))
	if err != nil {
		e.t.Fatal(err)
	}
	return b, tok, cfg
}

func (e *env) postLogoutForm(b *http.Client, form url.Values, origin string) *http.Response {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/p/sunrise/logout", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", origin)
	if origin != e.srv.URL {
		req.Header.Set("Sec-Fetch-Site", "cross-site")
	}
	resp, err := b.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp
}

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)">`)

// F5 (class): an end_session request without an id_token_hint that names
// this browser's session ends nothing — whatever else it carries, by GET or
// POST — and the refresh tokens of the session keep working. The browser is
// sent to the practice's confirmation page instead (or the request is
// refused when the hint does not verify).
func TestEndSessionWithoutValidHintDoesNotLogOut(t *testing.T) {
	e := newEnv(t, store.SQLite)
	b, tok, cfg := e.loggedInApp()
	// Another session of the same member: its ID token is a valid hint,
	// but for another session (sid).
	_, other, _ := e.loggedInApp()
	otherHint := other.Extra("id_token").(string)
	hint := tok.Extra("id_token").(string)
	forged := hint[:strings.LastIndexByte(hint, '.')+1] + "AAAA"
	for _, tc := range []struct {
		name    string
		method  string
		params  url.Values
		confirm bool // answered with the confirmation page (else an error)
	}{
		{"bare GET", "GET", url.Values{}, true},
		{"the tester's request", "GET", url.Values{"post_logout_redirect_uri": {"https://evil.test/"}, "state": {"abc"}}, true},
		{"registered client and URI", "GET", url.Values{"client_id": {"ehr"}, "post_logout_redirect_uri": {"https://ehr.example/bye"}}, true},
		{"client only", "GET", url.Values{"client_id": {"ehr"}}, true},
		{"POST", "POST", url.Values{"client_id": {"ehr"}}, true},
		{"hint of another session", "GET", url.Values{"id_token_hint": {otherHint}}, true},
		{"hint of another session, POST", "POST", url.Values{"id_token_hint": {otherHint}, "post_logout_redirect_uri": {"https://ehr.example/bye"}}, true},
		{"forged hint", "GET", url.Values{"id_token_hint": {forged}}, false},
		{"garbage hint", "GET", url.Values{"id_token_hint": {"not.a.jwt"}}, false},
		{"unregistered URI with client", "GET", url.Values{"client_id": {"ehr"}, "post_logout_redirect_uri": {"https://evil.test/"}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var resp *http.Response
			if tc.method == "GET" {
				resp = e.get(b, "/oauth2/end_session?"+tc.params.Encode())
			} else {
				req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/oauth2/end_session", strings.NewReader(tc.params.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				var err error
				if resp, err = b.Do(req); err != nil {
					t.Fatal(err)
				}
			}
			_ = resp.Body.Close()
			loc, _ := resp.Location()
			switch {
			case tc.confirm && (resp.StatusCode/100 != 3 || loc == nil || loc.Path != "/p/sunrise/logout" ||
				!strings.HasPrefix(loc.String(), e.srv.URL)):
				t.Errorf("%d to %v, want the confirmation page", resp.StatusCode, loc)
			case !tc.confirm && resp.StatusCode/100 == 3:
				t.Errorf("%d to %v, want an error", resp.StatusCode, loc)
			}
			if resp.Header.Get("Set-Cookie") != "" {
				t.Errorf("a cookie was changed: %s", resp.Header.Get("Set-Cookie"))
			}
			if !e.signedIn(b) {
				t.Fatal("the session was ended")
			}
		})
	}
	if _, err := cfg.TokenSource(e.tokenCtx(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err != nil {
		t.Errorf("the session's refresh token was revoked: %v", err)
	}
}

// The confirmation page is a CSRF-protected form: confirming from the page
// ends the session, revokes its refresh tokens and returns to the app's
// registered URI with its state; a cross-site post of the same form does
// nothing; "Stay signed in" is a plain link home.
func TestEndSessionConfirmation(t *testing.T) {
	e := newEnv(t, store.SQLite)
	b, tok, cfg := e.loggedInApp()
	resp := e.get(b, "/oauth2/end_session?"+url.Values{"client_id": {"ehr"},
		"post_logout_redirect_uri": {"https://ehr.example/bye"}, "state": {"s&1"}}.Encode())
	_ = resp.Body.Close()
	page := e.get(b, resp.Header.Get("Location"))
	body := readBody(page)
	if page.StatusCode != http.StatusOK || !strings.Contains(body, "Log out of Sunrise Therapy?") ||
		!strings.Contains(body, `action="/p/sunrise/logout"`) || !strings.Contains(body, `href="/p/sunrise/"`) {
		t.Fatalf("confirmation page: %d %s", page.StatusCode, body)
	}
	if csp := page.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' https://ehr.example;") {
		t.Errorf("CSP %q does not let the form return to the app", csp)
	}
	form := url.Values{}
	for _, m := range hiddenInput.FindAllStringSubmatch(body, -1) {
		form.Set(m[1], html.UnescapeString(m[2]))
	}
	if form.Get("client_id") != "ehr" || form.Get("post_logout_redirect_uri") != "https://ehr.example/bye" || form.Get("state") != "s&1" {
		t.Fatalf("the form carries %v", form)
	}
	// Cross-site: refused, nothing ended.
	resp = e.postLogoutForm(b, form, "https://evil.test")
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || !e.signedIn(b) {
		t.Fatalf("cross-site logout form: %d, signed in %v", resp.StatusCode, e.signedIn(b))
	}
	// Same origin: ended, and back to the app.
	resp = e.postLogoutForm(b, form, e.srv.URL)
	_ = resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "https://ehr.example/bye?state=s%261" {
		t.Fatalf("confirmed logout: %d to %q", resp.StatusCode, loc)
	}
	if e.signedIn(b) {
		t.Error("still signed in after confirming")
	}
	if _, err := cfg.TokenSource(e.tokenCtx(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
		t.Error("the session's refresh token still works")
	}
	// Signed out, the page sends the browser on without asking.
	resp = e.get(b, "/p/sunrise/logout?"+url.Values{"client_id": {"ehr"}, "post_logout_redirect_uri": {"https://ehr.example/bye"}}.Encode())
	_ = resp.Body.Close()
	if loc := resp.Header.Get("Location"); loc != "https://ehr.example/bye" {
		t.Errorf("signed-out confirmation page: %d to %q", resp.StatusCode, loc)
	}
}

// Post-logout redirects (class): only a URI registered for that client,
// exactly, whether through end_session with a valid hint, the confirmation
// page or its form. Everything else is refused without ending the session.
func TestPostLogoutRedirectOnlyRegistered(t *testing.T) {
	e := newEnv(t, store.SQLite)
	for _, tc := range []struct {
		name, client, uri string
	}{
		{"other host", "ehr", "https://evil.example/"},
		{"trailing slash", "ehr", "https://ehr.example/bye/"},
		{"extra query", "ehr", "https://ehr.example/bye?next=https://evil.example"},
		{"longer path", "ehr", "https://ehr.example/byebye"},
		{"plain http", "ehr", "http://ehr.example/bye"},
		{"host suffix", "ehr", "https://ehr.example.evil.example/bye"},
		{"user info", "ehr", "https://ehr.example@evil.example/bye"},
		{"fragment", "ehr", "https://ehr.example/bye#x"},
		{"scheme-relative", "ehr", "//evil.example/bye"},
		{"another client's URI", "spa", "https://ehr.example/bye"},
		{"unknown client", "nope", "https://ehr.example/bye"},
		{"no client", "", "https://ehr.example/bye"}, // end_session takes the hint's azp (ehr): registered

	} {
		t.Run(tc.name, func(t *testing.T) {
			b, tok, _ := e.loggedInApp()
			params := url.Values{"id_token_hint": {tok.Extra("id_token").(string)}, "post_logout_redirect_uri": {tc.uri}}
			if tc.client != "" && tc.client != "ehr" {
				params.Set("client_id", tc.client)
			}
			resp := e.get(b, "/oauth2/end_session?"+params.Encode())
			_ = resp.Body.Close()
			if loc := resp.Header.Get("Location"); tc.client != "" && (strings.Contains(loc, "evil") || strings.HasPrefix(loc, tc.uri)) {
				t.Errorf("end_session: %d to %q", resp.StatusCode, loc)
			}
			form := url.Values{"post_logout_redirect_uri": {tc.uri}}
			if tc.client != "" {
				form.Set("client_id", tc.client)
			}
			page := e.get(b, "/p/sunrise/logout?"+form.Encode())
			_ = page.Body.Close()
			if page.StatusCode != http.StatusBadRequest {
				t.Errorf("confirmation page: %d, want 400", page.StatusCode)
			}
			if e.signedIn(b) {
				resp = e.postLogoutForm(b, form, e.srv.URL)
				_ = resp.Body.Close()
				if resp.StatusCode != http.StatusBadRequest || !e.signedIn(b) {
					t.Errorf("logout form: %d to %q (signed in %v), want 400 and nothing ended",
						resp.StatusCode, resp.Header.Get("Location"), e.signedIn(b))
				}
			}
		})
	}
}
