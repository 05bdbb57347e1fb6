package oidc_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/oauth2"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/httpserver"
	"github.com/frontdeskhq/frontdesk/identity/passkeys/passkeystest"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/templates"
)

// TestPasskeyLoginContinuesAuthRequest: an app sends the person to the login
// page; they log in with a passkey instead of a password, and the pending
// auth request is continued exactly like after a password login. The tokens
// say amr ["hwk","user"].
func TestPasskeyLoginContinuesAuthRequest(t *testing.T) {
	e := newEnv(t, store.SQLite)
	ctx := context.Background()
	const origin, rpID = passkeystest.Origin, passkeystest.RPID
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	pk := passkeystest.NewService(t, e.store, e.acc.Service, e.acc.Clock.Now)
	pages, err := templates.ParsePages()
	if err != nil {
		t.Fatal(err)
	}
	h, err := httpserver.New(httpserver.Deps{Accounts: e.acc.Service, Onboarding: e.acc.Onboard, DB: e.store, Pages: pages, Logger: logger,
		Registry: prometheus.NewRegistry(), PublicURL: e.srv.URL, MaxBodyBytes: 64 << 10, SessionLifetime: 12 * time.Hour,
		OIDC: e.provider, Passkeys: pk})
	if err != nil {
		t.Fatal(err)
	}
	e.late.mu.Lock()
	e.late.h = h
	e.late.mu.Unlock()

	// Enrol the owner's passkey.
	pr, _, err := e.acc.Service.Login(ctx, "sunrise", ownerEmail, ownerPw, account.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	a := passkeystest.New(origin, rpID)
	opts, token, err := pk.BeginRegistration(ctx, pr)
	if err != nil {
		t.Fatal(err)
	}
	optsJSON, _ := json.Marshal(opts)
	if _, err := pk.FinishRegistration(ctx, pr, token, "Laptop", bytes.NewReader(a.Create(optsJSON)), account.Meta{}); err != nil {
		t.Fatal(err)
	}

	// The app starts a login; the browser lands on the login page.
	cfg := e.oauth("ehr", ehrSecret, ehrCB, "profile")
	verifier := oauth2.GenerateVerifier()
	browser := e.browser()
	resp := e.get(browser, cfg.AuthCodeURL("st4te", oauth2.S256ChallengeOption(verifier), gooidc.Nonce("n0nce"),
		oauth2.SetAuthURLParam("practice", "sunrise")))
	var authRequest string
	for range 4 {
		loc, err := resp.Location()
		if err != nil {
			t.Fatalf("no redirect to the login page: %d %s", resp.StatusCode, readBody(resp))
		}
		_ = resp.Body.Close()
		resp = e.get(browser, loc.String())
		if loc.Path == "/p/sunrise/login" {
			body := readBody(resp)
			m := hiddenAuthRequest.FindStringSubmatch(body)
			if m == nil || !strings.Contains(body, `data-auth-request="`+m[1]+`"`) {
				t.Fatalf("login page: %s", body)
			}
			if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") ||
				!strings.Contains(csp, "form-action 'self' https://ehr.example") {
				t.Errorf("login page CSP = %s", csp)
			}
			authRequest = m[1]
			break
		}
	}
	if authRequest == "" {
		t.Fatal("never reached the login page")
	}

	post := func(path string, body []byte) map[string]json.RawMessage {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", e.srv.URL)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		res, err := browser.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw := readBody(res)
		var out map[string]json.RawMessage
		if res.StatusCode != http.StatusOK || json.Unmarshal([]byte(raw), &out) != nil {
			t.Fatalf("POST %s: %d %s", path, res.StatusCode, raw)
		}
		return out
	}
	begin := post("/p/sunrise/passkeys/login/begin", []byte(`{}`))
	var ceremony, next string
	_ = json.Unmarshal(begin["ceremony"], &ceremony)
	done := post("/p/sunrise/passkeys/login/finish?"+url.Values{"ceremony": {ceremony}, "authRequest": {authRequest}}.Encode(),
		a.Get(begin["options"]))
	_ = json.Unmarshal(done["redirect"], &next)
	if !strings.HasPrefix(next, "/") && !strings.HasPrefix(next, e.srv.URL) {
		t.Fatalf("redirect after passkey login = %q", next)
	}
	// Follow frontdesk's redirects to the app.
	resp = e.get(browser, next)
	var code string
	for range 4 {
		loc, err := resp.Location()
		if err != nil {
			t.Fatalf("flow stopped: %d %s", resp.StatusCode, readBody(resp))
		}
		_ = resp.Body.Close()
		if strings.HasPrefix(loc.String(), ehrCB) {
			code = loc.Query().Get("code")
			break
		}
		resp = e.get(browser, loc.String())
	}
	if code == "" {
		t.Fatal("no code reached the app")
	}
	octx := context.WithValue(e.ctx, oauth2.HTTPClient, e.srv.Client())
	tok, err := cfg.Exchange(octx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	rawID, _ := tok.Extra("id_token").(string)
	idt, err := e.rp.Verifier(&gooidc.Config{ClientID: "ehr"}).Verify(octx, rawID)
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		AMR []string `json:"amr"`
	}
	if err := idt.Claims(&c); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.AMR, []string{"hwk", "user"}) {
		t.Errorf("amr = %v, want [hwk user]", c.AMR)
	}
}
