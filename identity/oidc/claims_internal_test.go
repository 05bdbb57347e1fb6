package oidc

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/frontdeskhq/frontdesk/identity/store"
)

// jsonNames lists the JSON names of a claims struct, embedded structs
// included.
func jsonNames(t reflect.Type) []string {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var out []string
	for f := range t.Fields() {
		if f.Anonymous {
			out = append(out, jsonNames(f.Type)...)
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		out = append(out, name)
	}
	return out
}

// namesAt lists the claims the table lets reach dest.
func namesAt(dest claimDest) []string {
	var out []string
	for _, g := range claimGroups() {
		if (g.always|g.scoped)&dest != 0 || g.scope != oidc.ScopeOpenID {
			out = append(out, g.names...)
		}
	}
	return out
}

// TestClaimsOneDefinition holds access tokens, ID tokens, userinfo and
// discovery to claimGroups (architecture review §1.3(b)): nothing is carried
// that the table does not define, and discovery lists every defined claim.
func TestClaimsOneDefinition(t *testing.T) {
	for _, tc := range []struct {
		what string
		typ  reflect.Type
		dest claimDest
	}{
		{"access token", reflect.TypeFor[accessTokenClaims](), destAccess},
		{"ID token", reflect.TypeFor[idTokenClaims](), destID},
	} {
		allowed := namesAt(tc.dest)
		for _, n := range jsonNames(tc.typ) {
			if !slices.Contains(allowed, n) {
				t.Errorf("%s carries %q, which claims.go does not define for it", tc.what, n)
			}
		}
	}

	// Userinfo with every group granted.
	all := []string{oidc.ScopeOpenID}
	for _, g := range claimGroups() {
		if g.scope != oidc.ScopeOpenID {
			all = append(all, g.scope)
		}
	}
	g := &grant{subject: "m1", scopes: all, practice: store.Practice{ID: "p1", Slug: "sunrise"},
		member: &store.Member{ID: "m1", Email: "a@example.org", DisplayName: "A", UpdatedAt: time.Unix(1e9, 0), Status: store.StatusActive},
		eff:    Effective{ElevatedUntil: time.Unix(2e9, 0)}}
	info := &oidc.UserInfo{}
	(&storage{}).fillUserinfo(info, g)
	raw, err := json.Marshal(info)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	allowed := namesAt(destUserinfo)
	var want []string
	for _, gr := range claimGroups() {
		if gr.always&destUserinfo != 0 || gr.scoped&destUserinfo != 0 {
			want = append(want, gr.names...)
		}
	}
	for n := range got {
		if !slices.Contains(allowed, n) {
			t.Errorf("userinfo carries %q, which claims.go does not define", n)
		}
	}
	for _, n := range want {
		if _, ok := got[n]; !ok {
			t.Errorf("userinfo lacks %q, which claims.go releases to it for scopes %v", n, all)
		}
	}

	// Discovery lists every defined claim once.
	sc := supportedClaims()
	for _, gr := range claimGroups() {
		for _, n := range gr.names {
			if !slices.Contains(sc, n) {
				t.Errorf("claims_supported lacks %q", n)
			}
		}
	}
	if len(slices.Compact(slices.Sorted(slices.Values(sc)))) != len(sc) {
		t.Errorf("claims_supported lists a claim twice: %v", sc)
	}
}

// TestClaimsRequestParsing: the claims parameter names claims; frontdesk
// releases their groups, only those whose scope the client may have.
func TestClaimsRequestParsing(t *testing.T) {
	onlyProfile := func(s string) bool { return s == oidc.ScopeProfile }
	for _, tc := range []struct {
		raw  string
		want claimsRequest
		err  bool
	}{
		{raw: "", want: claimsRequest{}},
		{raw: `{"userinfo":{"name":{"essential":true},"updated_at":null}}`, want: claimsRequest{Userinfo: []string{"profile"}}},
		{raw: `{"id_token":{"email":{"essential":true},"name":null,"acr":{"values":["x"]}}}`,
			want: claimsRequest{ID: []string{"profile"}, ACR: true}},
		{raw: `{"id_token":{"sub":{"value":"x"},"unknown":null}}`, want: claimsRequest{}},
		{raw: `[]`, err: true},
		{raw: `{"id_token":`, err: true},
		{raw: `{"userinfo":{"` + strings.Repeat("x", maxClaimsParam) + `":null}}`, err: true},
	} {
		got, err := parseClaimsRequest(tc.raw, onlyProfile)
		if (err != nil) != tc.err {
			t.Errorf("%.40s: err = %v, want error %v", tc.raw, err, tc.err)
			continue
		}
		if !tc.err && !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%.40s: %+v, want %+v", tc.raw, got, tc.want)
		}
	}
}

// TestACRFor maps each login method to its acr.
func TestACRFor(t *testing.T) {
	for _, tc := range []struct {
		amr  []string
		want string
	}{
		{[]string{"pwd"}, ACRPassword},
		{[]string{"hwk", "user"}, ACRPasskey},
		{[]string{"fed"}, ACRSSO},
		{nil, ACRPassword},
	} {
		if got := acrFor(tc.amr); got != tc.want || !slices.Contains(acrValues(), got) {
			t.Errorf("acrFor(%v) = %s, want %s (listed in discovery)", tc.amr, got, tc.want)
		}
	}
}

// TestNewClientAlgorithms: defaults RS256 for ID tokens and ES256 for access
// tokens; signing_alg sets both unless a specific key is given; anything
// else is refused.
func TestNewClientAlgorithms(t *testing.T) {
	for _, tc := range []struct {
		cfg        ClientConfig
		id, access string
		err        bool
	}{
		{cfg: ClientConfig{}, id: AlgRS256, access: AlgES256},
		{cfg: ClientConfig{SigningAlg: AlgES256}, id: AlgES256, access: AlgES256},
		{cfg: ClientConfig{SigningAlg: AlgRS256}, id: AlgRS256, access: AlgRS256},
		{cfg: ClientConfig{SigningAlg: AlgES256, IDTokenAlg: AlgRS256}, id: AlgRS256, access: AlgES256},
		{cfg: ClientConfig{IDTokenAlg: AlgES256, AccessTokenAlg: AlgRS256}, id: AlgES256, access: AlgRS256},
		{cfg: ClientConfig{IDTokenAlg: "HS256"}, err: true},
		{cfg: ClientConfig{AccessTokenAlg: "none"}, err: true},
		{cfg: ClientConfig{SigningAlg: "PS256"}, err: true},
	} {
		tc.cfg.ID = "c"
		cl, err := newClient(tc.cfg, time.Hour)
		if (err != nil) != tc.err {
			t.Errorf("%+v: err = %v", tc.cfg, err)
			continue
		}
		if !tc.err && (cl.cfg.IDTokenAlg != tc.id || cl.cfg.AccessTokenAlg != tc.access) {
			t.Errorf("%+v: id %s access %s, want %s %s", tc.cfg, cl.cfg.IDTokenAlg, cl.cfg.AccessTokenAlg, tc.id, tc.access)
		}
	}
}
