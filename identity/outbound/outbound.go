// Package outbound guards every connection frontdesk makes to an address a
// practice administrator chose: SSO provider discovery and the token, key
// set and userinfo endpoints it names, registered apps' back-channel logout
// URIs, and any later webhook. Without a guard an administrator could make
// frontdesk reach its own network (the database, Redis, a cloud metadata
// service): server-side request forgery.
//
// A Guard refuses loopback, private (RFC 1918, fc00::/7), link-local
// (169.254.0.0/16 with the cloud metadata address, fe80::/10), shared
// (CGNAT, 100.64.0.0/10), multicast, unspecified and other non-public
// addresses, and the IPv6 forms that embed an IPv4 address and would reach
// it unchecked: IPv4-mapped (::ffff:0:0/96), IPv4-compatible (::/96), 6to4
// (2002::/16), NAT64 (64:ff9b::/96, 64:ff9b:1::/48) and Teredo
// (2001::/32). The check runs in the dialer, on the address about to be
// connected to after name resolution, so a name that resolves to a public
// address when it is checked and to a private one when it is used (DNS
// rebinding) is refused too; and it runs again on every redirect a client
// follows. The HTTP client of a Guard uses no proxy (a proxy would resolve
// the name itself, past the check).
//
// The operator may allow named ranges (an on-premises identity provider on
// 10.20.0.0/16, or a test's loopback) in the configuration file
// (outbound.allowed_ranges); nothing a practice administrator can reach
// changes that list.
package outbound

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// ErrRefused is wrapped by every refusal: the address is not public and not
// in the operator's allowed ranges, or the URL is not one frontdesk calls.
var ErrRefused = errors.New("outbound: refused")

// nonPublic are the ranges refused besides what netip's predicates
// (loopback, private, link-local, multicast, unspecified) already cover.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // shared address space (carrier NAT; some cloud metadata services)
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation (TEST-NET-1)
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // documentation (TEST-NET-2)
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation (TEST-NET-3)
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and 255.255.255.255
	netip.MustParsePrefix("::/96"),           // IPv4-compatible (deprecated): embeds an IPv4 address
	netip.MustParsePrefix("::ffff:0:0/96"),   // IPv4-mapped (also unmapped before the check)
	netip.MustParsePrefix("64:ff9b::/96"),    // NAT64: would reach an IPv4 address unchecked
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64
	netip.MustParsePrefix("100::/64"),        // discard-only
	netip.MustParsePrefix("2001::/32"),       // Teredo: embeds an IPv4 address
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("2002::/16"),       // 6to4: embeds an IPv4 address
}

// Public reports whether ip is a public unicast address frontdesk may
// connect to without the operator's say-so. An IPv4-mapped address is
// judged as the IPv4 address it carries.
func Public(ip netip.Addr) bool {
	if ip.Is4In6() {
		ip = ip.Unmap()
	}
	if !ip.IsValid() || ip.Zone() != "" || !ip.IsGlobalUnicast() || ip.IsPrivate() || ip.IsLoopback() ||
		ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsInterfaceLocalMulticast() ||
		ip.IsMulticast() || ip.IsUnspecified() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// Guard decides which addresses outbound connections may reach. The zero
// value allows public addresses only. It is immutable and safe for
// concurrent use.
type Guard struct {
	allowed []netip.Prefix
}

// New returns a Guard that also allows the operator's ranges (CIDRs such as
// "10.20.0.0/16" or single addresses such as "192.168.1.5").
func New(allowedRanges []string) (*Guard, error) {
	g := &Guard{}
	for _, r := range allowedRanges {
		p, err := ParseRange(r)
		if err != nil {
			return nil, err
		}
		g.allowed = append(g.allowed, p)
	}
	return g, nil
}

// ParseRange parses one allowed range: a CIDR or a single IP address.
func ParseRange(r string) (netip.Prefix, error) {
	r = strings.TrimSpace(r)
	if p, err := netip.ParsePrefix(r); err == nil {
		return p.Masked(), nil
	}
	if a, err := netip.ParseAddr(r); err == nil && a.Zone() == "" {
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	return netip.Prefix{}, fmt.Errorf("outbound: %q is not a CIDR range (10.20.0.0/16) or an IP address", r)
}

// Allowed reports whether a connection to ip may be made: ip is public, or
// in one of the operator's allowed ranges.
func (g *Guard) Allowed(ip netip.Addr) bool {
	if Public(ip) {
		return true
	}
	if g == nil {
		return false
	}
	for _, p := range g.allowed {
		if p.Contains(ip) || (ip.Is4In6() && p.Contains(ip.Unmap())) {
			return true
		}
	}
	return false
}

// Control is the net.Dialer Control function of the guard: address is the
// resolved "ip:port" about to be connected to.
func (g *Guard) Control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: connection to %q: not an IP address and port", ErrRefused, address)
	}
	if !g.Allowed(ap.Addr()) {
		return fmt.Errorf("%w: connection to %s: not a public address (an operator can allow the range in outbound.allowed_ranges)",
			ErrRefused, ap.Addr())
	}
	return nil
}

// CheckURL checks a URL frontdesk is about to call: http or https, a host,
// no user information; a literal IP address must be allowed. A host name is
// checked when connecting (Control).
func (g *Guard) CheckURL(u *url.URL) error {
	if u == nil || (u.Scheme != "https" && u.Scheme != "http") || u.Hostname() == "" || u.User != nil {
		return fmt.Errorf("%w: %s is not an http(s) URL with a host", ErrRefused, redact(u))
	}
	if ip, err := netip.ParseAddr(u.Hostname()); err == nil && !g.Allowed(ip) {
		return fmt.Errorf("%w: %s is not a public address (an operator can allow the range in outbound.allowed_ranges)",
			ErrRefused, ip)
	}
	return nil
}

func redact(u *url.URL) string {
	if u == nil {
		return "(none)"
	}
	return u.Redacted()
}

// Resolver resolves host names (net.DefaultResolver in production).
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// CheckHost is the early check of a host an administrator is registering
// (an SSO issuer): it is refused when it is a literal address that is not
// allowed, or a name every one of whose addresses is not allowed. A name
// that does not resolve now is not refused (it may be set up later); the
// dialer checks again on every connection.
func (g *Guard) CheckHost(ctx context.Context, r Resolver, host string) error {
	if ip, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		if !g.Allowed(ip) {
			return fmt.Errorf("%w: %s is not a public address", ErrRefused, ip)
		}
		return nil
	}
	if r == nil {
		return nil
	}
	addrs, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil || len(addrs) == 0 {
		return nil
	}
	for _, a := range addrs {
		if g.Allowed(a) {
			return nil
		}
	}
	return fmt.Errorf("%w: %s resolves only to addresses that are not public (%s)", ErrRefused, host, addrs[0])
}

// ClientOptions shape an HTTP client of the guard.
type ClientOptions struct {
	// Timeout bounds each request, redirects included; 0 means 10 s.
	Timeout time.Duration
	// TLS is the TLS configuration (extra roots); nil means the system's.
	TLS *tls.Config
	// MaxRedirects is how many redirects are followed, each checked; 0
	// follows none (the response to the first request is returned).
	MaxRedirects int
}

// Client returns an HTTP client whose every connection is checked by the
// guard: no proxy, the guard's dialer, and each redirect (if any are
// followed) checked for scheme and literal address before it is requested
// — an https URL is never redirected to plain http.
func (g *Guard) Client(o ClientOptions) *http.Client {
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	d := &net.Dialer{Timeout: o.Timeout, Control: g.Control}
	tr := &http.Transport{Proxy: nil, DialContext: d.DialContext, TLSClientConfig: o.TLS,
		TLSHandshakeTimeout: o.Timeout, MaxIdleConns: 16, IdleConnTimeout: 30 * time.Second,
		ForceAttemptHTTP2: true, ResponseHeaderTimeout: o.Timeout}
	return &http.Client{Timeout: o.Timeout, Transport: tr, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) > o.MaxRedirects {
			return http.ErrUseLastResponse
		}
		if len(via) > 0 && via[0].URL.Scheme == "https" && req.URL.Scheme != "https" {
			return fmt.Errorf("%w: redirect from https to %s", ErrRefused, req.URL.Scheme)
		}
		return g.CheckURL(req.URL)
	}}
}
