package oidc

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

// TestSignMatchesGoJose: for each key type and algorithm frontdesk signs
// with, and each token type, the compact JWS sign assembles has exactly the
// protected header go-jose's signer writes, carries the claims' JSON as its
// payload, and verifies with go-jose against the public key; a key of
// another type is signed through go-jose; a key whose type does not match
// its algorithm is refused.
func TestSignMatchesGoJose(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ec384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	rs, _ := rsa.GenerateKey(rand.Reader, 2048)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	claims := &accessTokenClaims{Issuer: "https://fd.example", Subject: "m1", Audience: []string{"ehr"},
		Expiration: 2000000000, IssuedAt: 1900000000, ClientID: "ehr", JWTID: "j<&>1", Scope: "openid"}
	want, _ := json.Marshal(claims)
	for _, tc := range []struct {
		name string
		alg  jose.SignatureAlgorithm
		key  crypto.Signer
	}{{"ES256", jose.ES256, ec}, {"RS256", jose.RS256, rs}, {"EdDSA (through go-jose)", jose.EdDSA, ed}} {
		for _, typ := range []jose.ContentType{AccessTokenType, "JWT"} {
			t.Run(tc.name+"/"+string(typ), func(t *testing.T) {
				k := &signingKey{id: "kid-1", alg: tc.alg, private: tc.key}
				tok, err := k.sign(typ, claims)
				if err != nil {
					t.Fatal(err)
				}
				ref, err := jose.NewSigner(jose.SigningKey{Algorithm: tc.alg, Key: &jose.JSONWebKey{Key: tc.key, KeyID: "kid-1"}},
					(&jose.SignerOptions{}).WithType(typ))
				if err != nil {
					t.Fatal(err)
				}
				refJWS, _ := ref.Sign(want)
				refTok, _ := refJWS.CompactSerialize()
				if got, exp := strings.Split(tok, ".")[0], strings.Split(refTok, ".")[0]; got != exp {
					t.Errorf("header %s, go-jose writes %s", got, exp)
				}
				jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{tc.alg})
				if err != nil {
					t.Fatal(err)
				}
				payload, err := jws.Verify(tc.key.Public())
				if err != nil {
					t.Fatalf("go-jose refuses the signature: %v", err)
				}
				if string(payload) != string(want) {
					t.Errorf("payload %s, want %s", payload, want)
				}
			})
		}
	}
	for _, tc := range []struct {
		name string
		alg  jose.SignatureAlgorithm
		key  crypto.Signer
	}{{"EC key for RS256", jose.RS256, ec}, {"RSA key for ES256", jose.ES256, rs}, {"P-384 key for ES256", jose.ES256, ec384}} {
		k := &signingKey{id: "kid-1", alg: tc.alg, private: tc.key}
		if tok, err := k.sign(AccessTokenType, claims); err == nil {
			t.Errorf("%s: signed %s", tc.name, tok)
		}
	}
}
