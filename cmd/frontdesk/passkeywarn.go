package main

import (
	"net/netip"

	"github.com/frontdeskhq/frontdesk/identity/config"
)

// passkeyWarning says, for the start-up summary line, why passkeys are off
// ("" when they are on). The usual cause is a public URL on an IP address:
// WebAuthn accepts only a domain name as the relying party.
func passkeyWarning(cfg *config.Config, on bool) string {
	if on {
		return ""
	}
	if _, err := netip.ParseAddr(cfg.PasskeyRPID()); err == nil {
		return "passkeys are off: the relying party " + cfg.PasskeyRPID() + " is an IP address, which WebAuthn refuses; " +
			"serve server.public_url on a host name (http://localhost:PORT works on this machine) " +
			"or set passkeys.rp_id and passkeys.origins to one"
	}
	return "passkeys are off: the relying-party configuration was refused (see the warning above); " +
		"set passkeys.rp_id and passkeys.origins"
}
