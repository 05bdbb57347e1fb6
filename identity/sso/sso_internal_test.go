package sso

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/account/accounttest"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
)

func newTestService(t *testing.T, master []byte) *Service {
	t.Helper()
	st := storetest.Open(t, store.SQLite)
	acc := accounttest.New(t, st, accounttest.Options{PublicURL: "https://id.example", Clock: accounttest.NewClock(time.Now())})
	n := 0
	s, err := New(Deps{Store: st, Accounts: acc.Service, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: time.Now,
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
