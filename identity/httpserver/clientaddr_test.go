package httpserver

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClientAddr(t *testing.T) {
	s := &Server{d: Deps{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}}}
	tests := []struct {
		name   string
		remote string
		xff    []string
		want   string
	}{
		{"direct peer", "192.0.2.1:5000", nil, "192.0.2.1"},
		{"untrusted peer's header ignored", "192.0.2.1:5000", []string{"198.51.100.7"}, "192.0.2.1"},
		{"trusted proxy", "10.1.2.3:5000", []string{"198.51.100.7"}, "198.51.100.7"},
		{"spoofed left entry ignored", "10.1.2.3:5000", []string{"203.0.113.66, 198.51.100.7"}, "198.51.100.7"},
		{"chain of proxies", "10.1.2.3:5000", []string{"198.51.100.7, 10.9.9.9"}, "198.51.100.7"},
		{"several headers", "10.1.2.3:5000", []string{"203.0.113.66", "198.51.100.7"}, "198.51.100.7"},
		{"garbage stops the walk", "10.1.2.3:5000", []string{"198.51.100.7, not-an-ip"}, "10.1.2.3"},
		{"only proxies", "10.1.2.3:5000", []string{"10.4.4.4"}, "10.4.4.4"},
		{"ipv6 loopback proxy", "[::1]:5000", []string{"2001:db8::5"}, "2001:db8::5"},
		{"mapped v4", "[::ffff:192.0.2.1]:5000", nil, "192.0.2.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remote
			for _, h := range tt.xff {
				r.Header.Add("X-Forwarded-For", h)
			}
			if got := s.clientAddr(r).String(); got != tt.want {
				t.Errorf("clientAddr = %s, want %s", got, tt.want)
			}
		})
	}
}
