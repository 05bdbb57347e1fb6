package outbound_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/frontdeskhq/frontdesk/identity/outbound"
)

// nonPublicAddrs is the class the guard refuses, one or more members of
// each kind; each is also tried as an IPv4-mapped IPv6 address when it is
// IPv4.
var nonPublicAddrs = []struct {
	kind, addr string
}{
	{"loopback", "127.0.0.1"},
	{"loopback", "127.8.9.10"},
	{"loopback", "::1"},
	{"private", "10.0.0.5"},
	{"private", "172.16.3.4"},
	{"private", "192.168.1.1"},
	{"private", "fc00::1"},
	{"private", "fd00:ec2::254"}, // IPv6 cloud metadata (AWS)
	{"link-local", "169.254.169.254"},
	{"link-local", "169.254.1.1"},
	{"link-local", "fe80::1"},
	{"cgnat", "100.64.0.1"},
	{"cgnat", "100.100.100.200"}, // Alibaba cloud metadata
	{"multicast", "224.0.0.1"},
	{"multicast", "239.255.255.250"},
	{"multicast", "ff02::1"},
	{"multicast", "ff0e::1"},
	{"unspecified", "0.0.0.0"},
	{"unspecified", "::"},
	{"this-network", "0.1.2.3"},
	{"broadcast", "255.255.255.255"},
	{"reserved", "240.0.0.1"},
	{"benchmarking", "198.18.0.1"},
	{"documentation", "192.0.2.1"},
	{"ietf", "192.0.0.170"},
	{"ipv4-mapped", "::ffff:127.0.0.1"},
	{"ipv4-mapped", "::ffff:169.254.169.254"},
	{"ipv4-mapped", "::ffff:10.0.0.1"},
	{"ipv4-compatible", "::127.0.0.1"}, // the tester's P10
	{"ipv4-compatible", "::169.254.169.254"},
	{"ipv4-compatible", "::8.8.8.8"},
	{"6to4", "2002:7f00:1::1"},   // 127.0.0.1
	{"6to4", "2002:a9fe:a9fe::"}, // 169.254.169.254
	{"nat64", "64:ff9b::a00:1"},  // 10.0.0.1
	{"nat64", "64:ff9b::7f00:1"}, // 127.0.0.1
	{"nat64-local", "64:ff9b:1::a00:1"},
	{"teredo", "2001:0:4136:e378:8000:63bf:3fff:fdd2"},
	{"teredo", "2001::1"},
	{"ipv6-documentation", "2001:db8::1"},
	{"discard", "100::1"},
}

var publicAddrs = []string{"93.184.215.14", "8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "2a00:1450:4001:82a::200e",
	"::ffff:8.8.8.8"}

func TestPublicClass(t *testing.T) {
	for _, tc := range nonPublicAddrs {
		ip := netip.MustParseAddr(tc.addr)
		if outbound.Public(ip) {
			t.Errorf("%s %s counts as public", tc.kind, ip)
		}
		if ip.Is4() {
			if m := netip.AddrFrom16(ip.As16()); outbound.Public(m) {
				t.Errorf("%s %s as IPv4-mapped %s counts as public", tc.kind, ip, m)
			}
		}
	}
	for _, a := range publicAddrs {
		if !outbound.Public(netip.MustParseAddr(a)) {
			t.Errorf("%s does not count as public", a)
		}
	}
}

// The dial check, called the way net.Dialer calls it (with the resolved
// address and port).
func TestControlClass(t *testing.T) {
	g, err := outbound.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range nonPublicAddrs {
		addr := netip.AddrPortFrom(netip.MustParseAddr(tc.addr), 443).String()
		for _, network := range []string{"tcp", "tcp4", "tcp6"} {
			if err := g.Control(network, addr, nil); !errors.Is(err, outbound.ErrRefused) {
				t.Errorf("Control(%s, %s) [%s] = %v, want ErrRefused", network, addr, tc.kind, err)
			}
		}
	}
	for _, a := range publicAddrs {
		addr := netip.AddrPortFrom(netip.MustParseAddr(a), 443).String()
		if err := g.Control("tcp", addr, nil); err != nil {
			t.Errorf("Control(%s) = %v, want nil", addr, err)
		}
	}
	if err := g.Control("tcp", "not-an-address:443", nil); !errors.Is(err, outbound.ErrRefused) {
		t.Errorf("Control(a name) = %v, want ErrRefused", err)
	}
	var nilGuard *outbound.Guard
	if err := nilGuard.Control("tcp", "10.0.0.1:443", nil); !errors.Is(err, outbound.ErrRefused) {
		t.Errorf("nil guard allowed a private address: %v", err)
	}
}

// The operator's ranges open exactly what they name.
func TestAllowedRanges(t *testing.T) {
	g, err := outbound.New([]string{"10.20.0.0/16", "127.0.0.1", "fd00:1::/32"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		addr string
		ok   bool
	}{
		{"10.20.3.4", true},
		{"::ffff:10.20.3.4", true},
		{"10.21.0.1", false},
		{"127.0.0.1", true},
		{"127.0.0.2", false},
		{"::1", false},
		{"fd00:1::5", true},
		{"fd00:2::5", false},
		{"169.254.169.254", false},
		{"8.8.8.8", true},
	} {
		if got := g.Allowed(netip.MustParseAddr(tc.addr)); got != tc.ok {
			t.Errorf("Allowed(%s) = %v, want %v", tc.addr, got, tc.ok)
		}
	}
	for _, bad := range []string{"10.0.0.0/33", "idp.local", "", "fe80::1%eth0"} {
		if _, err := outbound.New([]string{bad}); err == nil {
			t.Errorf("New(%q) accepted", bad)
		}
	}
}

type fakeResolver map[string][]netip.Addr

func (f fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	a, ok := f[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return a, nil
}

func TestCheckHost(t *testing.T) {
	res := fakeResolver{
		"internal.example": {netip.MustParseAddr("10.0.0.8")},
		"meta.example":     {netip.MustParseAddr("169.254.169.254"), netip.MustParseAddr("fd00:ec2::254")},
		"mixed.example":    {netip.MustParseAddr("10.0.0.8"), netip.MustParseAddr("93.184.215.14")},
		"public.example":   {netip.MustParseAddr("93.184.215.14")},
	}
	open, _ := outbound.New(nil)
	allow, _ := outbound.New([]string{"10.0.0.0/8"})
	for _, tc := range []struct {
		host       string
		open, allw bool
	}{
		{"127.0.0.1", false, false},
		{"[::1]", false, false},
		{"::127.0.0.1", false, false},
		{"10.0.0.8", false, true},
		{"internal.example", false, true},
		{"meta.example", false, false},
		{"mixed.example", true, true}, // the dialer refuses the private one when connecting
		{"public.example", true, true},
		{"unknown.example", true, true}, // not resolvable now: checked when connecting
		{"8.8.8.8", true, true},
	} {
		for _, g := range []struct {
			g    *outbound.Guard
			want bool
		}{{open, tc.open}, {allow, tc.allw}} {
			err := g.g.CheckHost(context.Background(), res, tc.host)
			if (err == nil) != g.want {
				t.Errorf("CheckHost(%s) = %v, want ok=%v", tc.host, err, g.want)
			}
			if err != nil && !errors.Is(err, outbound.ErrRefused) {
				t.Errorf("CheckHost(%s) error %v is not ErrRefused", tc.host, err)
			}
		}
	}
}

// A real connection to a loopback listener is refused by the guard's
// client, both directly and by name ("localhost" resolves past a URL
// check), and allowed once the operator allows loopback.
func TestClientRefusesLoopback(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) }))
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	byName := "http://localhost:" + u.Port() + "/"
	g, _ := outbound.New(nil)
	c := g.Client(outbound.ClientOptions{})
	for _, target := range []string{srv.URL, byName} {
		resp, err := c.Get(target)
		if err == nil {
			_ = resp.Body.Close()
			t.Errorf("GET %s through the guard succeeded", target)
		} else if !errors.Is(err, outbound.ErrRefused) {
			t.Errorf("GET %s: %v, want ErrRefused", target, err)
		}
	}
	allow, _ := outbound.New([]string{"127.0.0.0/8", "::1"})
	resp, err := allow.Client(outbound.ClientOptions{}).Get(srv.URL)
	if err != nil {
		t.Fatalf("allowed loopback: %v", err)
	}
	_ = resp.Body.Close()
}

// Every redirect hop is checked: a public-looking first hop (here an
// allowed loopback address standing in for it) that redirects to a refused
// address, to another scheme, or from https to http is not followed there.
func TestClientChecksEveryRedirect(t *testing.T) {
	var hits atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = w.Write([]byte("internal"))
	}))
	t.Cleanup(target.Close)
	tu, _ := url.Parse(target.URL)
	for _, tc := range []struct {
		name, location string
	}{
		{"metadata", "http://169.254.169.254/latest/meta-data/"},
		{"loopback literal", "http://127.0.0.2:" + tu.Port() + "/x"},
		{"loopback v6", "http://[::1]:" + tu.Port() + "/x"},
		{"ipv4-compatible", "http://[::127.0.0.1]:" + tu.Port() + "/x"},
		{"private", "http://10.0.0.1/"},
		{"file scheme", "file:///etc/passwd"},
		{"gopher scheme", "gopher://127.0.0.1:6379/_INFO"},
		{"user info", "http://u:p@8.8.8.8/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			first := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, tc.location, http.StatusFound)
			}))
			t.Cleanup(first.Close)
			// Only the first server's exact address is allowed.
			fu, _ := url.Parse(first.URL)
			g, err := outbound.New([]string{fu.Hostname()})
			if err != nil {
				t.Fatal(err)
			}
			resp, err := g.Client(outbound.ClientOptions{MaxRedirects: 5}).Get(first.URL)
			if err == nil {
				_ = resp.Body.Close()
				t.Fatalf("redirect to %s followed (status %d)", tc.location, resp.StatusCode)
			}
			if !errors.Is(err, outbound.ErrRefused) && !strings.Contains(err.Error(), "unsupported protocol scheme") {
				t.Errorf("redirect to %s: %v, want ErrRefused", tc.location, err)
			}
		})
	}
	if hits.Load() != 0 {
		t.Errorf("the internal target was reached %d times", hits.Load())
	}
	// Without MaxRedirects nothing is followed: the redirect itself is
	// the answer.
	first := httptest.NewServer(http.RedirectHandler(target.URL, http.StatusFound))
	t.Cleanup(first.Close)
	g, _ := outbound.New([]string{"127.0.0.1"})
	resp, err := g.Client(outbound.ClientOptions{}).Get(first.URL)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusFound || hits.Load() != 0 {
		t.Errorf("status %d, hits %d: want the 302 unfollowed", resp.StatusCode, hits.Load())
	}
}
