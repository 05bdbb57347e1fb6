package oidc

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"

	"github.com/frontdeskhq/frontdesk/identity/store"
)

// TestSignMatchesGoJose holds sign (golang-jwt) to what go-jose produced
// for the same key, type and claims before: the same header and payload
// segments byte for byte (alg, kid, typ; the claims' JSON), and a signature
// go-jose verifies with the published key.
func TestSignMatchesGoJose(t *testing.T) {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := newClient(ClientConfig{ID: "ehr", Secret: "s"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	p := &Provider{issuer: "https://id.example", d: Deps{NewID: func() string { return "jti-0123456789" }}}
	now := time.Unix(1796578439, 0)
	g := &grant{client: cl, subject: "member-1", practice: store.Practice{ID: "pr-1", Slug: "sunrise"},
		member: &store.Member{ID: "member-1", Email: "o@example.org", DisplayName: "Olive", Status: store.StatusActive},
		scopes: []string{"openid", "roles"}, amr: []string{"pwd"}, authTime: now, sid: "sid-1", nonce: "n<&>",
		eff: Effective{Roles: []string{"clinician"}, Permissions: []string{"notes.write:own"}}}
	access := p.accessTokenClaims(g, now, 5*time.Minute)
	id := &idTokenClaims{Issuer: p.issuer, Subject: g.subject, Audience: []string{"ehr"}, Expiration: now.Unix() + 3600,
		IssuedAt: now.Unix(), Nonce: g.nonce, AZP: "ehr", ClientID: "ehr", practiceClaims: g.practiceClaims()}
	for _, tc := range []struct {
		name   string
		alg    jose.SignatureAlgorithm
		key    crypto.Signer
		typ    string
		claims jwt.Claims
	}{
		{"ES256 access", jose.ES256, ec, AccessTokenType, access},
		{"ES256 ID", jose.ES256, ec, "JWT", id},
		{"RS256 access", jose.RS256, rs, AccessTokenType, access},
		{"RS256 ID", jose.RS256, rs, "JWT", id},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key := &signingKey{id: "kid-" + string(tc.alg), alg: tc.alg, private: tc.key}
			got, err := key.sign(tc.typ, tc.claims)
			if err != nil {
				t.Fatal(err)
			}
			signer, err := jose.NewSigner(jose.SigningKey{Algorithm: tc.alg, Key: &jose.JSONWebKey{Key: tc.key, KeyID: key.id}},
				(&jose.SignerOptions{}).WithType(jose.ContentType(tc.typ)))
			if err != nil {
				t.Fatal(err)
			}
			payload, err := json.Marshal(tc.claims)
			if err != nil {
				t.Fatal(err)
			}
			obj, err := signer.Sign(payload)
			if err != nil {
				t.Fatal(err)
			}
			want, err := obj.CompactSerialize()
			if err != nil {
				t.Fatal(err)
			}
			g, w := strings.Split(got, "."), strings.Split(want, ".")
			if len(g) != 3 || g[0] != w[0] || g[1] != w[1] {
				t.Fatalf("sign = %s\ngo-jose = %s\n(header and payload must match)", got, want)
			}
			parsed, err := jose.ParseSigned(got, []jose.SignatureAlgorithm{tc.alg})
			if err != nil {
				t.Fatal(err)
			}
			verified, err := parsed.Verify(tc.key.Public())
			if err != nil {
				t.Fatalf("go-jose does not verify the signature: %v", err)
			}
			if string(verified) != string(payload) {
				t.Errorf("verified payload = %s, want %s", verified, payload)
			}
		})
	}
}

// TestSignRefusesMismatchedKey: a key whose algorithm does not fit its
// private key signs nothing.
func TestSignRefusesMismatchedKey(t *testing.T) {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		key  *signingKey
	}{
		{"ECDSA key as RS256", &signingKey{id: "a", alg: jose.RS256, private: ec}},
		{"P-384 key as ES256", &signingKey{id: "b", alg: jose.ES256, private: p384}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tok, err := tc.key.sign(AccessTokenType, &accessTokenClaims{}); err == nil {
				t.Fatalf("signed %s", tok)
			}
		})
	}
}
