package oidc_test

import (
	"errors"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/frontdeskhq/frontdesk/identity/account/accounttest"
	"github.com/frontdeskhq/frontdesk/identity/enforce"
	"github.com/frontdeskhq/frontdesk/identity/store"
)

// Apps verify frontdesk's real tokens offline with identity/enforce.
func TestEnforceVerifiesRealTokens(t *testing.T) {
	e := newEnv(t, store.SQLite)
	e.perms.set(e.ownerID, "notes.write:assigned")
	cfg := e.oauth("ehr", ehrSecret, ehrCB)
	code, verifier, _ := e.login(e.browser(), cfg)
	tok, err := cfg.Exchange(e.tokenCtx(), code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	v, err := enforce.New(enforce.Config{Issuer: e.srv.URL, Audience: "ehr", Practice: "sunrise", HTTPClient: e.srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	c, err := v.Verify(e.ctx, tok.AccessToken)
	if err != nil {
		t.Fatalf("enforce rejected a real access token: %v", err)
	}
	if c.Subject != e.ownerID || !c.Allowed("notes.write:own") || c.Allowed("notes.write:all") || c.SessionID == "" {
		t.Errorf("claims = %+v", c)
	}
	if _, err := v.Verify(e.ctx, tok.Extra("id_token").(string)); !errors.Is(err, enforce.ErrInvalidToken) {
		t.Errorf("ID token as access token: err = %v", err)
	}
	for name, cfg := range map[string]enforce.Config{
		"other app":      {Issuer: e.srv.URL, Audience: "billing", HTTPClient: e.srv.Client()},
		"other practice": {Issuer: e.srv.URL, Audience: "ehr", Practice: "moonrise", HTTPClient: e.srv.Client()},
	} {
		other, _ := enforce.New(cfg)
		if _, err := other.Verify(e.ctx, tok.AccessToken); !errors.Is(err, enforce.ErrInvalidToken) {
			t.Errorf("%s: err = %v, want ErrInvalidToken", name, err)
		}
	}
	// The RS256 client's tokens verify too.
	e.perms.set(e.ownerID, "app.datacollection.login")
	collect := e.oauth("collect", ehrSecret, collectCB)
	code, verifier, _ = e.login(e.browser(), collect)
	rtok, err := collect.Exchange(e.tokenCtx(), code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	rv, _ := enforce.New(enforce.Config{Issuer: e.srv.URL, Audience: "collect", HTTPClient: e.srv.Client()})
	if _, err := rv.Verify(e.ctx, rtok.AccessToken); err != nil {
		t.Errorf("RS256 token: %v", err)
	}
}

// Key rotation mid-flight: an app that cached the JWKS before the new key
// started signing verifies tokens signed with it without refetching, and the
// old key stays published while its tokens live.
func TestKeyRotationMidFlight(t *testing.T) {
	clock := accounttest.NewClock(time.Now())
	e := newEnvClock(t, store.SQLite, clock)
	cfg := e.oauth("ehr", ehrSecret, ehrCB)
	code, verifier, _ := e.login(e.browser(), cfg)
	old, err := cfg.Exchange(e.tokenCtx(), code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	oldKid := jwtHeader(t, old.AccessToken).KeyID
	newKid, activeFrom, err := e.provider.Keys().Rotate(e.ctx, "ES256")
	if err != nil {
		t.Fatal(err)
	}
	// The app verifies an old token now, caching the JWKS (with the new key),
	// and may not refetch for an hour.
	v, _ := enforce.New(enforce.Config{Issuer: e.srv.URL, Audience: "ehr", HTTPClient: e.srv.Client(),
		RefreshInterval: time.Hour, Now: clock.Now})
	if _, err := v.Verify(e.ctx, old.AccessToken); err != nil {
		t.Fatal(err)
	}
	clock.Advance(activeFrom.Sub(clock.Now()) + time.Minute)
	code, verifier, _ = e.login(e.browser(), cfg)
	fresh, err := cfg.Exchange(e.tokenCtx(), code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	if k := jwtHeader(t, fresh.AccessToken).KeyID; k != newKid {
		t.Fatalf("after activation tokens are signed with %s, want the new key %s", k, newKid)
	}
	if _, err := v.Verify(e.ctx, fresh.AccessToken); err != nil {
		t.Errorf("app with a JWKS cached before activation rejects the new key's token: %v", err)
	}
	var jwks struct{ Keys []struct{ Kid string } }
	_ = jsonDecode(e.get(e.srv.Client(), "/oauth2/keys"), &jwks)
	published := map[string]bool{}
	for _, k := range jwks.Keys {
		published[k.Kid] = true
	}
	if !published[oldKid] || !published[newKid] {
		t.Errorf("JWKS after activation = %v; want the old key still published", jwks.Keys)
	}
}
