package sso

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/account/accounttest"
	"github.com/frontdeskhq/frontdesk/identity/outbound"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
)

func newTestService(t *testing.T, master []byte) *Service {
	t.Helper()
	st := storetest.Open(t, store.SQLite)
	acc := accounttest.New(t, st, accounttest.Options{PublicURL: "https://id.example", Clock: accounttest.NewClock(time.Now())})
	n := 0
	s, err := New(Deps{Store: st, Accounts: acc.Service, Onboarding: acc.Onboard, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: time.Now,
		NewID: func() string { n++; return "id-" + string(rune('a'+n)) }, Random: rand.Reader, MasterKey: master,
		RoleKeys: func(context.Context, string) ([]string, error) { return []string{"owner", "staff"}, nil }},
		Config{PublicURL: "https://id.example/"})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestClientSecretSealing(t *testing.T) {
	master := bytes.Repeat([]byte{7}, 32)
	s := newTestService(t, master)
	p := store.SSOProvider{ID: "p1", PracticeID: "pr1"}
	sealed, err := s.seal(p, "the-secret")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("the-secret")) {
		t.Fatal("secret stored in the clear")
	}
	p.ClientSecretEnc = sealed
	if got, err := s.open(p); err != nil || got != "the-secret" {
		t.Fatalf("open = %q, %v", got, err)
	}
	// Bound to its provider: copied onto another provider it does not open.
	moved := p
	moved.ID = "p2"
	if _, err := s.open(moved); err == nil {
		t.Error("a sealed secret opened under another provider")
	}
	// Another master key cannot open it.
	other := newTestService(t, bytes.Repeat([]byte{8}, 32))
	if _, err := other.open(p); err == nil {
		t.Error("opened with another master key")
	}
	if _, err := New(Deps{}, Config{}); err == nil {
		t.Error("New without dependencies succeeded")
	}
}

func TestProviderValidation(t *testing.T) {
	s := newTestService(t, bytes.Repeat([]byte{1}, 32))
	ok := NewProvider{ClientID: "c", ClientSecret: "s"}
	with := func(f func(*NewProvider)) NewProvider { p := ok; f(&p); return p }
	tests := []struct {
		name       string
		in         NewProvider
		field      string // "" means valid
		wantIssuer string
	}{
		{"google preset", with(func(p *NewProvider) { p.Kind = "google" }), "", "https://accounts.google.com"},
		{"google with another issuer", with(func(p *NewProvider) { p.Kind = "google"; p.Issuer = "https://evil.example" }), "issuer", ""},
		{"entra from tenant", with(func(p *NewProvider) { p.Kind = "entra"; p.Tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47" }), "",
			"https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0"},
		{"entra common tenant", with(func(p *NewProvider) { p.Kind = "entra"; p.Tenant = "common" }), "tenant", ""},
		{"entra organizations issuer", with(func(p *NewProvider) {
			p.Kind = "entra"
			p.Issuer = "https://login.microsoftonline.com/organizations/v2.0"
		}), "tenant", ""},
		{"generic", with(func(p *NewProvider) { p.Kind = "generic"; p.Issuer = "https://idp.example"; p.DisplayName = "IdP" }), "", "https://idp.example"},
		{"generic without name", with(func(p *NewProvider) { p.Kind = "generic"; p.Issuer = "https://idp.example" }), "display_name", ""},
		{"generic over http", with(func(p *NewProvider) { p.Kind = "generic"; p.Issuer = "http://idp.example"; p.DisplayName = "X" }), "issuer", ""},
		{"unknown kind", with(func(p *NewProvider) { p.Kind = "okta" }), "kind", ""},
		{"no client id", with(func(p *NewProvider) { p.Kind = "google"; p.ClientID = "" }), "client_id", ""},
		{"no secret", with(func(p *NewProvider) { p.Kind = "google"; p.ClientSecret = "" }), "client_secret", ""},
		{"control character in name", with(func(p *NewProvider) { p.Kind = "google"; p.DisplayName = "Go\x00gle" }), "display_name", ""},
		{"bad domain", with(func(p *NewProvider) { p.Kind = "google"; p.AllowedDomains = []string{"not a domain"} }), "allowed_domains", ""},
		{"join without domains", with(func(p *NewProvider) { p.Kind = "google"; p.JoinEnabled = true; p.JoinRole = "staff" }), "join_enabled", ""},
		{"join with unknown role", with(func(p *NewProvider) {
			p.Kind = "google"
			p.AllowedDomains = []string{"a.example"}
			p.JoinEnabled, p.JoinRole = true, "ceo"
		}), "join_role", ""},
		{"join", with(func(p *NewProvider) {
			p.Kind = "google"
			p.AllowedDomains = []string{"A.Example", "a.example"}
			p.JoinEnabled, p.JoinRole = true, "staff"
		}), "", "https://accounts.google.com"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := s.validate(context.Background(), "pr1", tc.in)
			if tc.field == "" {
				if err != nil || p.Issuer != tc.wantIssuer {
					t.Fatalf("validate = %+v, %v", p, err)
				}
				return
			}
			var invalid *InvalidError
			if !errors.As(err, &invalid) || invalid.Field != tc.field || !errors.Is(err, ErrInvalid) {
				t.Fatalf("validate error = %v, want field %s", err, tc.field)
			}
		})
	}
	if p, _ := s.validate(context.Background(), "pr1", tests[len(tests)-1].in); len(p.AllowedDomains) != 1 || p.AllowedDomains[0] != "a.example" {
		t.Errorf("domains not normalised: %v", p.AllowedDomains)
	}
}

func TestDomainRule(t *testing.T) {
	p := store.SSOProvider{AllowedDomains: []string{"clinic.example"}}
	tests := []struct {
		name string
		prov store.SSOProvider
		id   identity
		want bool
	}{
		{"no domains configured", store.SSOProvider{}, identity{email: "x@anywhere.example"}, true},
		{"verified, allowed", p, identity{email: "a@Clinic.Example", emailVerified: true}, true},
		{"unverified, allowed domain", p, identity{email: "a@clinic.example"}, false},
		{"verified, other domain", p, identity{email: "a@evil.example", emailVerified: true}, false},
		{"subdomain is not the domain", p, identity{email: "a@x.clinic.example", emailVerified: true}, false},
		{"suffix trick", p, identity{email: "a@evilclinic.example", emailVerified: true}, false},
		{"no email", p, identity{emailVerified: true}, false},
	}
	for _, tc := range tests {
		if got := domainAllowed(tc.prov, tc.id); got != tc.want {
			t.Errorf("%s: domainAllowed = %v", tc.name, got)
		}
	}
	for v, want := range map[any]bool{true: true, "true": true, "TRUE": true, false: false, "false": false, nil: false, 1.0: true} {
		if truthy(v) != want {
			t.Errorf("truthy(%v) != %v", v, want)
		}
	}
}

type fakeResolver map[string][]netip.Addr

func (f fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if a, ok := f[host]; ok {
		return a, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

// F2 (class): a generic issuer on an address frontdesk will not connect to
// for a practice is refused when it is added — a literal address of every
// non-public kind, or a name that resolves only to such addresses — with a
// message naming the operator's allow-list; the operator's allowed range
// makes it acceptable.
func TestIssuerOnNonPublicAddressRefused(t *testing.T) {
	s := newTestService(t, bytes.Repeat([]byte{1}, 32))
	s.d.Resolver = fakeResolver{
		"localhost":           {netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")},
		"idp.internal":        {netip.MustParseAddr("10.20.1.2")},
		"metadata.internal":   {netip.MustParseAddr("169.254.169.254")},
		"rebind.example":      {netip.MustParseAddr("100.64.0.7")},
		"idp.public.example":  {netip.MustParseAddr("93.184.215.14")},
		"idp.dual.example":    {netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("2606:4700:4700::1111")},
		"idp.mapped.example":  {netip.MustParseAddr("::ffff:127.0.0.1")},
		"idp.teredo.example":  {netip.MustParseAddr("2001::1")},
		"idp.compat.example":  {netip.MustParseAddr("::a00:1")},
		"idp.unspec.example":  {netip.MustParseAddr("0.0.0.0")},
		"idp.multicast.examp": {netip.MustParseAddr("224.0.0.251")},
	}
	refused := []string{
		"https://127.0.0.1:9260", "https://127.0.0.1", "https://[::1]:8443", "https://169.254.169.254/latest/meta-data",
		"https://10.1.2.3", "https://172.16.0.1", "https://192.168.0.10", "https://100.100.100.200", "https://0.0.0.0",
		"https://[::]", "https://[fe80::1]", "https://[fd00:ec2::254]", "https://[::ffff:127.0.0.1]",
		"https://[::127.0.0.1]", "https://[2002:7f00:1::]", "https://[64:ff9b::a9fe:a9fe]", "https://[2001::1]",
		"https://224.0.0.1", "https://[ff02::1]",
		"https://localhost:9260", "https://idp.internal", "https://metadata.internal/x", "https://rebind.example",
		"https://idp.mapped.example", "https://idp.teredo.example", "https://idp.compat.example",
		"https://idp.unspec.example", "https://idp.multicast.examp",
	}
	accepted := []string{"https://idp.public.example", "https://idp.dual.example", "https://unresolvable.example",
		"https://93.184.215.14", "https://[2606:4700:4700::1111]"}
	add := func(issuer string) error {
		_, err := s.validate(context.Background(), "pr1", NewProvider{Kind: KindGeneric, DisplayName: "IdP", Issuer: issuer,
			ClientID: "c", ClientSecret: "s"})
		return err
	}
	for _, iss := range refused {
		err := add(iss)
		var invalid *InvalidError
		if !errors.As(err, &invalid) || invalid.Field != "issuer" || !strings.Contains(invalid.Reason, "outbound.allowed_ranges") {
			t.Errorf("issuer %s: %v, want an issuer error naming outbound.allowed_ranges", iss, err)
		}
	}
	for _, iss := range accepted {
		if err := add(iss); err != nil {
			t.Errorf("issuer %s refused: %v", iss, err)
		}
	}
	// The operator's allowed ranges (an on-premises provider).
	if s.d.Outbound, _ = outbound.New([]string{"10.20.0.0/16", "127.0.0.1"}); true {
		for _, iss := range []string{"https://idp.internal", "https://10.20.9.9", "https://127.0.0.1:9260"} {
			if err := add(iss); err != nil {
				t.Errorf("issuer %s in an allowed range refused: %v", iss, err)
			}
		}
		for _, iss := range []string{"https://10.21.0.1", "https://metadata.internal", "https://127.0.0.2"} {
			if err := add(iss); err == nil {
				t.Errorf("issuer %s outside the allowed ranges accepted", iss)
			}
		}
	}
}

// F2 (regression): a provider whose issuer is on loopback — stored before
// the up-front check existed, or a name re-pointed at loopback later (DNS
// rebinding) — is never contacted: starting its sign-in, which anyone may
// do unauthenticated, fails without a connection reaching the listener.
func TestUpstreamDiscoveryDoesNotReachLoopback(t *testing.T) {
	var accepted atomic.Int32
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			_ = c.Close()
		}
	}()
	s := newTestService(t, bytes.Repeat([]byte{1}, 32))
	for _, issuer := range []string{"https://" + ln.Addr().String(), "https://localhost:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)} {
		_, err := s.upstreamProvider(context.Background(), issuer)
		if !errors.Is(err, ErrUpstream) || !errors.Is(err, outbound.ErrRefused) {
			t.Errorf("discovery of %s: %v, want ErrUpstream wrapping outbound.ErrRefused", issuer, err)
		}
	}
	_ = ln.Close()
	<-done
	if n := accepted.Load(); n != 0 {
		t.Errorf("%d connections reached the loopback listener", n)
	}
}
