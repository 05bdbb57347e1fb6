package config

import (
	"strings"
	"testing"
	"time"
)

// Role, toggle and override changes reach running apps within one
// access-token lifetime (issue 4, point 9), so every lifetime is bounded:
// oidc.access_token_ttl and each client's access_token_ttl lie in 1m..1h.
func TestAccessTokenLifetimeIsBounded(t *testing.T) {
	tests := []struct {
		name     string
		provider time.Duration
		client   time.Duration
		wantKey  string // "" means valid
	}{
		{"defaults", 5 * time.Minute, 0, ""},
		{"client one hour", 5 * time.Minute, time.Hour, ""},
		{"client one minute", 5 * time.Minute, time.Minute, ""},
		{"provider too long", 2 * time.Hour, 0, "oidc.access_token_ttl"},
		{"client too long", 5 * time.Minute, 24 * time.Hour, "clients[0].access_token_ttl"},
		{"client too short", 5 * time.Minute, time.Second, "clients[0].access_token_ttl"},
		{"client negative", 5 * time.Minute, -time.Minute, "clients[0].access_token_ttl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			c.OIDC.AccessTokenTTL = tt.provider
			c.Clients = []Client{{ID: "ehr", RedirectURIs: []string{"https://ehr.example/cb"}, Scopes: []string{"openid"},
				AccessTokenTTL: tt.client}}
			err := c.Validate()
			switch {
			case tt.wantKey == "" && err != nil:
				t.Fatalf("valid configuration refused: %v", err)
			case tt.wantKey != "" && (err == nil || !strings.Contains(err.Error(), tt.wantKey)):
				t.Fatalf("err = %v, want one naming %s", err, tt.wantKey)
			}
		})
	}
}
