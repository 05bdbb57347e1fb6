package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/enforce"
)

// TestFloorToken checks that the floor does the work it stands for: it
// refuses every wrong client and grant, and what it issues is an ES256 at+jwt
// that enforce (the verifier apps use) accepts.
func TestFloorToken(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 6, 13, 0, 0, 0, time.UTC)
	srv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + srv.Listener.Addr().String()
	h, err := newHandler(issuer, "bench", "right secret", key, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = h
	srv.Start()
	defer srv.Close()

	post := func(t *testing.T, id, secret, grant string) *http.Response {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, issuer+"/oauth2/token", strings.NewReader(url.Values{"grant_type": {grant}}.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if id != "" {
			req.SetBasicAuth(id, secret)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	for _, tc := range []struct {
		name, id, secret, grant string
		want                    int
	}{
		{"wrong secret", "bench", "wrong secret", "client_credentials", http.StatusUnauthorized},
		{"unknown client", "other", "right secret", "client_credentials", http.StatusUnauthorized},
		{"no client auth", "", "", "client_credentials", http.StatusUnauthorized},
		{"other grant", "bench", "right secret", "password", http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := post(t, tc.id, tc.secret, tc.grant)
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}

	v, err := enforce.New(enforce.Config{Issuer: issuer, Audience: "bench", HTTPClient: srv.Client(), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := h.sign()
	if err != nil {
		t.Fatal(err)
	}
	c, err := v.Verify(context.Background(), tok)
	if err != nil {
		t.Fatalf("enforce refused the floor's token: %v", err)
	}
	if c.ClientID != "bench" || c.Subject != "bench" || !c.Expiry.Equal(now.Add(5*time.Minute)) {
		t.Fatalf("claims %+v", c)
	}
	resp := post(t, "bench", "right secret", "client_credentials")
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("good grant: status %d", resp.StatusCode)
	}
}
