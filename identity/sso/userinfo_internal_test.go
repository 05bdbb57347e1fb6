package sso

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// TestUserinfoClaims: when the upstream's ID token carries no email, the
// email and name come from its userinfo endpoint, and only for the ID
// token's subject.
func TestUserinfoClaims(t *testing.T) {
	cases := []struct {
		name, body string
		noEndpoint bool
		want       upstreamClaims
		wantErr    bool
	}{
		{name: "same subject", body: `{"sub":"s1","email":"ann@clinic.example","email_verified":true,"name":"Ann"}`,
			want: upstreamClaims{Email: "ann@clinic.example", EmailVerified: true, Name: "Ann"}},
		{name: "another subject", body: `{"sub":"s2","email":"eve@evil.example","email_verified":true}`, wantErr: true},
		{name: "no subject", body: `{"email":"eve@evil.example","email_verified":true}`, wantErr: true},
		{name: "not JSON", body: `<html>`, wantErr: true},
		{name: "no userinfo endpoint", noEndpoint: true, want: upstreamClaims{Name: "From ID token"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("Authorization") != "Bearer at-1" {
					http.Error(w, "no token", http.StatusUnauthorized)
					return
				}
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			cfg := gooidc.ProviderConfig{IssuerURL: srv.URL, AuthURL: srv.URL + "/authorize", TokenURL: srv.URL + "/token"}
			if !tc.noEndpoint {
				cfg.UserInfoURL = srv.URL + "/userinfo"
			}
			up := cfg.NewProvider(context.Background())
			c := upstreamClaims{Name: "From ID token"}
			if !tc.noEndpoint {
				c.Name = ""
			}
			err := userinfoClaims(context.Background(), up, &oauth2.Token{AccessToken: "at-1", TokenType: "Bearer"}, "s1", &c)
			if tc.wantErr {
				if !errors.Is(err, ErrUpstream) {
					t.Fatalf("err = %v, want ErrUpstream; claims %+v", err, c)
				}
				if c.Email != "" {
					t.Fatalf("claims taken from a refused answer: %+v", c)
				}
				return
			}
			if err != nil || c != tc.want {
				t.Fatalf("claims = %+v, err %v; want %+v", c, err, tc.want)
			}
		})
	}
}
