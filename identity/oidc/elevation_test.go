package oidc_test

import (
	"context"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/frontdeskhq/frontdesk/identity/store"
)

// An active emergency-access elevation shows in the tokens as
// elevated_until; without one the claim is absent.
func TestElevationClaim(t *testing.T) {
	e := newEnv(t, store.SQLite)
	ctx := context.WithValue(e.ctx, oauth2.HTTPClient, e.srv.Client())
	cfg := e.oauth("ehr", ehrSecret, ehrCB, "profile", "roles")
	until := time.Now().Add(4 * time.Hour).Truncate(time.Second)
	tests := []struct {
		name     string
		elevated time.Time
		want     any
	}{
		{"elevated", until, float64(until.Unix())},
		{"not elevated", time.Time{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.perms.mu.Lock()
			e.perms.elevated = tt.elevated
			e.perms.mu.Unlock()
			code, verifier, _ := e.login(e.browser(), cfg)
			tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
			if err != nil {
				t.Fatal(err)
			}
			if got := jwtClaims(t, tok.AccessToken)["elevated_until"]; got != tt.want {
				t.Errorf("access token elevated_until = %v, want %v", got, tt.want)
			}
			rawID, _ := tok.Extra("id_token").(string)
			if got := jwtClaims(t, rawID)["elevated_until"]; got != tt.want {
				t.Errorf("ID token elevated_until = %v, want %v", got, tt.want)
			}
		})
	}
}
