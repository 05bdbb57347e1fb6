package oidc_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/frontdeskhq/frontdesk/identity/store"
)

func TestBackchannelLogout(t *testing.T) {
	e := newEnv(t, store.SQLite)
	cfg := e.oauth("ehr", ehrSecret, ehrCB, "offline_access")
	for _, via := range []string{"end_session", "logout page"} {
		b := e.browser()
		code, verifier, _ := e.login(b, cfg)
		tok, err := cfg.Exchange(e.tokenCtx(), code, oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatal(err)
		}
		sid, _ := jwtClaims(t, tok.AccessToken)["sid"].(string)
		before := len(e.logouts.received())
		switch via {
		case "end_session":
			resp := e.get(b, "/oauth2/end_session?"+url.Values{"id_token_hint": {tok.Extra("id_token").(string)}}.Encode())
			_ = resp.Body.Close()
		default:
			req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/p/sunrise/logout", strings.NewReader(""))
			req.Header.Set("Origin", e.srv.URL)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := b.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
		}
		got := e.logouts.received()
		if len(got) != before+1 {
			t.Fatalf("%s: %d logout tokens delivered, want 1", via, len(got)-before)
		}
		lt := got[len(got)-1]
		if h := jwtHeader(t, lt); h.ExtraHeaders[jose.HeaderType] != "logout+jwt" {
			t.Errorf("%s: logout token typ = %v", via, h.ExtraHeaders[jose.HeaderType])
		}
		c := jwtClaims(t, lt)
		events, _ := c["events"].(map[string]any)
		if c["sid"] != sid || c["sub"] != e.ownerID || c["iss"] != e.srv.URL || c["nonce"] != nil ||
			events["http://schemas.openid.net/event/backchannel-logout"] == nil {
			t.Errorf("%s: logout token claims = %v", via, c)
		}
		// The session's refresh tokens are revoked.
		if _, err := cfg.TokenSource(e.tokenCtx(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
			t.Errorf("%s: refresh token survived the logout", via)
		}
	}
}

// The account service's OnDeactivate hook revokes the member's refresh
// tokens and tells every app holding their tokens, by sub.
func TestMemberDeactivatedHook(t *testing.T) {
	e := newEnv(t, store.SQLite)
	cfg := e.oauth("ehr", ehrSecret, ehrCB, "offline_access")
	code, verifier, _ := e.login(e.browser(), cfg)
	tok, err := cfg.Exchange(e.tokenCtx(), code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	p, _ := e.store.PracticeBySlug(e.ctx, "sunrise")
	before := len(e.logouts.received())
	if err := e.provider.MemberDeactivated(e.ctx, p.ID, e.ownerID); err != nil {
		t.Fatal(err)
	}
	got := e.logouts.received()
	if len(got) != before+1 {
		t.Fatalf("%d logout tokens, want 1", len(got)-before)
	}
	c := jwtClaims(t, got[len(got)-1])
	if c["sub"] != e.ownerID || c["sid"] != nil {
		t.Errorf("deactivation logout token = %v, want sub and no sid", c)
	}
	if _, err := cfg.TokenSource(e.tokenCtx(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
		t.Error("refresh token survived deactivation")
	}
}
