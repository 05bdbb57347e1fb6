package config

import (
	"slices"
	"testing"
	"time"
)

func TestPasskeyDefaults(t *testing.T) {
	c := Default()
	c.Server.PublicURL = "https://id.example.org:8443"
	if got := c.PasskeyRPID(); got != "id.example.org" {
		t.Errorf("PasskeyRPID = %q", got)
	}
	if got := c.PasskeyOrigins(); !slices.Equal(got, []string{"https://id.example.org:8443"}) {
		t.Errorf("PasskeyOrigins = %v", got)
	}
	c.Passkeys.RPID, c.Passkeys.Origins = "example.org", []string{"https://login.example.org"}
	if c.PasskeyRPID() != "example.org" || !slices.Equal(c.PasskeyOrigins(), []string{"https://login.example.org"}) {
		t.Errorf("explicit values not used: %q %v", c.PasskeyRPID(), c.PasskeyOrigins())
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

func TestPasskeyValidation(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Config)
		want   string
	}{
		{"rp id with port", func(c *Config) { c.Passkeys.RPID = "id.example.org:443" }, "passkeys.rp_id"},
		{"empty name", func(c *Config) { c.Passkeys.RPName = " " }, "passkeys.rp_name"},
		{"origin with path", func(c *Config) {
			c.Passkeys.RPID, c.Passkeys.Origins = "example.org", []string{"https://example.org/login"}
		}, "passkeys.origins"},
		{"origin off the RP", func(c *Config) {
			c.Passkeys.RPID, c.Passkeys.Origins = "example.org", []string{"https://example.org.evil.test"}
		}, "passkeys.origins"},
		{"ceremony too long", func(c *Config) { c.Passkeys.CeremonyTTL = time.Hour }, "passkeys.ceremony_ttl"},
		{"reauth too short", func(c *Config) { c.Passkeys.ReauthWindow = time.Second }, "passkeys.reauth_window"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			tc.mutate(c)
			wantErrContaining(t, c.Validate(), "config: "+tc.want)
		})
	}
}
