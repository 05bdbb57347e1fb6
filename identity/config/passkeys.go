package config

import (
	"net/url"
	"strings"
	"time"
)

// PasskeyRPID is passkeys.rp_id, or the host (without port) of
// server.public_url when that is empty.
func (c *Config) PasskeyRPID() string {
	if c.Passkeys.RPID != "" {
		return c.Passkeys.RPID
	}
	u, err := url.Parse(c.Server.PublicURL)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

// PasskeyOrigins is passkeys.origins, or the origin of server.public_url when
// that is empty.
func (c *Config) PasskeyOrigins() []string {
	if len(c.Passkeys.Origins) > 0 {
		return c.Passkeys.Origins
	}
	u, err := url.Parse(c.Server.PublicURL)
	if err != nil {
		return nil
	}
	return []string{u.Scheme + "://" + u.Host}
}

func (c *Config) validatePasskeys(v *validator) {
	p := c.Passkeys
	// Defaults derived from server.public_url are checked there; only
	// explicit values are checked here.
	rpID := c.PasskeyRPID()
	if p.RPID != "" && strings.ContainsAny(rpID, ":/ []") {
		v.add("passkeys.rp_id", "must be a host name such as id.example.org (or empty for the host of server.public_url)")
	}
	if strings.TrimSpace(p.RPName) == "" || len(p.RPName) > 64 {
		v.add("passkeys.rp_name", "must be 1 to 64 characters, for example frontdesk")
	}
	for _, o := range p.Origins {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Path != "" || u.RawQuery != "" {
			v.add("passkeys.origins", "%q must be an origin such as https://id.example.org (scheme and host, no path)", o)
			continue
		}
		h := u.Hostname()
		if h != rpID && !strings.HasSuffix(h, "."+rpID) {
			v.add("passkeys.origins", "%q is not on the relying party %q; origins must be that host or its subdomains", o, rpID)
		}
	}
	for _, d := range []struct {
		key    string
		val    time.Duration
		lo, hi time.Duration
	}{
		{"passkeys.ceremony_ttl", p.CeremonyTTL, 30 * time.Second, 15 * time.Minute},
		{"passkeys.reauth_window", p.ReauthWindow, time.Minute, time.Hour},
	} {
		if d.val < d.lo || d.val > d.hi {
			v.add(d.key, "is %s; it must be between %s and %s", d.val, d.lo, d.hi)
		}
	}
}
