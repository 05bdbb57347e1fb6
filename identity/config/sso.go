package config

import (
	"fmt"
	"net/netip"
	"os"
	"strings"
	"time"
)

// SSO configures practice single sign-on through upstream OpenID providers.
// The providers themselves are per practice and stored in the database
// (`frontdesk practice sso add`, or the admin API).
type SSO struct {
	// Timeout bounds every call to an upstream provider (discovery, keys,
	// code exchange), 1s..60s. Default 10s.
	Timeout time.Duration `yaml:"timeout"`
	// FlowTTL is how long a person has to finish signing in at the upstream
	// provider, 1m..30m. Default 10m.
	FlowTTL time.Duration `yaml:"flow_ttl"`
	// ReauthWindow is how recent a login must be to link an upstream
	// account from the account page, 1m..1h. Default 10m.
	ReauthWindow time.Duration `yaml:"reauth_window"`
	// CAFile is a PEM file of extra certificate authorities trusted for
	// upstream providers (a self-hosted provider behind a private CA);
	// "" trusts the system roots only.
	CAFile string `yaml:"ca_file"`
}

func (c *Config) validateSSO(v *validator) {
	s := c.SSO
	for _, d := range []struct {
		key    string
		val    time.Duration
		lo, hi time.Duration
	}{
		{"sso.timeout", s.Timeout, time.Second, time.Minute},
		{"sso.flow_ttl", s.FlowTTL, time.Minute, 30 * time.Minute},
		{"sso.reauth_window", s.ReauthWindow, time.Minute, time.Hour},
	} {
		if d.val < d.lo || d.val > d.hi {
			v.add(d.key, "is %s; it must be between %s and %s", d.val, d.lo, d.hi)
		}
	}
	if s.CAFile != "" {
		if _, err := os.Stat(s.CAFile); err != nil {
			v.add("sso.ca_file", "cannot be read: %w", err)
		}
	}
}

func (c *Config) validateOutbound(v *validator) {
	if len(c.Outbound.AllowedRanges) > 100 {
		v.add("outbound.allowed_ranges", "has %d entries; at most 100", len(c.Outbound.AllowedRanges))
	}
	for i, r := range c.Outbound.AllowedRanges {
		key := fmt.Sprintf("outbound.allowed_ranges[%d]", i)
		if strings.Contains(r, "/") {
			p, err := netip.ParsePrefix(r)
			if err != nil {
				v.add(key, "%q is not a valid CIDR such as \"10.20.0.0/16\": %w", r, err)
			} else if p.Bits() == 0 {
				v.add(key, "%q would allow every address; name the private ranges to allow", r)
			}
		} else if a, err := netip.ParseAddr(r); err != nil || a.Zone() != "" {
			v.add(key, "%q is not a valid IP address or CIDR", r)
		}
	}
}
