package httpserver

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

// FuzzClientAddr: any X-Forwarded-For from a trusted proxy yields either the
// proxy itself or an address that appears in the header, never a panic.
func FuzzClientAddr(f *testing.F) {
	s := &Server{d: Deps{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}}
	for _, h := range []string{"198.51.100.7", "203.0.113.66, 198.51.100.7", "garbage", ", ,", "[::1]", "2001:db8::1, 10.0.0.1", "1.2.3.4%eth0"} {
		f.Add(h)
	}
	f.Fuzz(func(t *testing.T, xff string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = "10.1.2.3:5000"
		r.Header.Set("X-Forwarded-For", xff)
		got := s.clientAddr(r)
		if !got.IsValid() {
			t.Fatalf("clientAddr(%q) is invalid", xff)
		}
	})
}
