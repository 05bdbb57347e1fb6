package oidc

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// A registered app's back-channel logout URI is chosen by a practice
// administrator, not by the operator, and frontdesk POSTs to it: without a
// guard an administrator could make frontdesk reach its own network (the
// database, Redis, a cloud metadata service). Logout tokens to registered
// apps therefore go through a client whose dialer checks every address it is
// about to connect to, after name resolution — so a name that resolves to a
// public address when the URI is checked and to a private one when the
// token is sent (DNS rebinding) is refused too. That client uses no proxy
// (a proxy would resolve the name itself, past the check) and follows no
// redirects (a logout endpoint answers 200 or 204).
//
// Loopback is refused like the rest, although the URI check accepts http on
// a loopback address (as for redirect URIs): an app on a developer's own
// computer that wants back-channel logout is configured in the
// configuration file (clients:), whose URIs the operator vouches for and
// which are not guarded.

// DialControl is the signature of net.Dialer.Control.
type DialControl func(network, address string, c syscall.RawConn) error

// nonPublicPrefixes are ranges that IsPrivate and friends do not cover but
// that must not be reached either.
var nonPublicPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),     // "this network"
	netip.MustParsePrefix("100.64.0.0/10"), // shared address space (carrier NAT; some cloud metadata services)
	netip.MustParsePrefix("192.0.0.0/24"),  // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"), // benchmarking
	netip.MustParsePrefix("64:ff9b::/96"),  // NAT64: would reach an IPv4 address unchecked
	netip.MustParsePrefix("64:ff9b:1::/48"),
	netip.MustParsePrefix("2002::/16"), // 6to4: embeds an IPv4 address
}

// PublicAddressOnly is the dial check for registered apps' back-channel
// logout: it refuses a connection to a loopback, private (RFC 1918,
// fc00::/7), link-local (169.254.0.0/16 with the cloud metadata address,
// fe80::/10), unspecified, multicast or otherwise non-public address.
// address is the resolved "ip:port" net.Dialer passes to Control.
func PublicAddressOnly(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("oidc: back-channel logout to %q refused: not an IP address and port", address)
	}
	ip := ap.Addr().Unmap()
	if !publicAddr(ip) {
		return fmt.Errorf("oidc: back-channel logout to %s refused: not a public address", ip)
	}
	return nil
}

func publicAddr(ip netip.Addr) bool {
	if !ip.IsValid() || ip.Zone() != "" || !ip.IsGlobalUnicast() || ip.IsPrivate() || ip.IsLoopback() ||
		ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsInterfaceLocalMulticast() ||
		ip.IsMulticast() || ip.IsUnspecified() {
		return false
	}
	for _, p := range nonPublicPrefixes {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// appHTTPClient is the client that delivers logout tokens to registered
// apps: every connection is checked by control, no proxy, no redirects.
func appHTTPClient(control DialControl) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second, Control: control}
	return &http.Client{
		Timeout: 5 * time.Second,
		Transport: &http.Transport{Proxy: nil, DialContext: d.DialContext, TLSHandshakeTimeout: 5 * time.Second,
			MaxIdleConns: 16, IdleConnTimeout: 30 * time.Second, ForceAttemptHTTP2: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
