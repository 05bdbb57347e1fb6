package oidc

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"syscall"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/frontdeskhq/frontdesk/identity/store"
)

// processCPU is the CPU time (user + system) the process has used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkMintIDToken measures minting one ID token (claims of a code
// grant with the roles scope, at_hash, JSON, signature) with an ES256 and an
// RS256 (2048-bit) key, in the same run: what id_token_signed_response_alg's
// default of RS256 costs per token. Reports CPU µs per token (cpu-µs/op),
// which shared cores do not distort as they do wall time.
func BenchmarkMintIDToken(b *testing.B) {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	rs, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	p := &Provider{issuer: "https://id.example"}
	cl, err := newClient(ClientConfig{ID: "ehr"}, time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	g := &grant{client: cl, subject: "member-0123456789", practice: store.Practice{ID: "practice-0123", Slug: "sunrise"},
		member: &store.Member{ID: "member-0123456789", Email: "olive@example.org", DisplayName: "Olive", Status: store.StatusActive},
		scopes: []string{"openid", "roles", "offline_access"}, amr: []string{"pwd"}, authTime: now, sid: "session-0123456789",
		nonce: "n0nce-0123456789", eff: Effective{Roles: []string{"clinician"}, Permissions: []string{"clients.read:assigned", "notes.write:own"}}}
	for _, k := range []struct {
		alg jose.SignatureAlgorithm
		key crypto.Signer
	}{{jose.ES256, ec}, {jose.RS256, rs}} {
		b.Run(string(k.alg), func(b *testing.B) {
			key := &signingKey{id: "k1", alg: k.alg, private: k.key}
			if _, err := p.idToken(key, g, "access-token", "code"); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			start := processCPU()
			for b.Loop() {
				if _, err := p.idToken(key, g, "access-token", "code"); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(processCPU()-start)/float64(time.Microsecond)/float64(b.N), "cpu-µs/op")
		})
	}
}

// BenchmarkSignAccessTokenVsGoJose signs the same client-credentials access
// token with sign (golang-jwt) and with a go-jose signer kept for the key's
// lifetime (how mint.go signed before), alternating blocks of 16 tokens each
// and reading the process's CPU time around every block, so both see the
// same load: cpu-golangjwt/gojose is the ratio of their CPU per token.
func BenchmarkSignAccessTokenVsGoJose(b *testing.B) {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	key := &signingKey{id: "k1-0123456789abcdef", alg: jose.ES256, private: ec}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: &jose.JSONWebKey{Key: ec, KeyID: key.id}},
		(&jose.SignerOptions{}).WithType(AccessTokenType))
	if err != nil {
		b.Fatal(err)
	}
	cl, err := newClient(ClientConfig{ID: "bench", Secret: "s", GrantTypes: []string{"client_credentials"}}, time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	p := &Provider{issuer: "http://127.0.0.1:18080", d: Deps{NewID: func() string { return "IHd2YFVrwW20roqtHwJupA" }}}
	claims := p.accessTokenClaims(&grant{client: cl, subject: cl.cfg.ID}, time.Now(), 5*time.Minute)
	withGoJose := func() {
		payload, err := json.Marshal(claims)
		if err != nil {
			b.Fatal(err)
		}
		jws, err := signer.Sign(payload)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := jws.CompactSerialize(); err != nil {
			b.Fatal(err)
		}
	}
	withGolangJWT := func() {
		if _, err := key.sign(AccessTokenType, claims); err != nil {
			b.Fatal(err)
		}
	}
	withGoJose()
	withGolangJWT()
	var cpuJose, cpuJWT time.Duration
	b.ReportAllocs()
	for b.Loop() {
		t0 := processCPU()
		for range 16 {
			withGoJose()
		}
		t1 := processCPU()
		for range 16 {
			withGolangJWT()
		}
		cpuJose += t1 - t0
		cpuJWT += processCPU() - t1
	}
	per := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) / float64(16*b.N) }
	b.ReportMetric(per(cpuJose), "cpu-µs/gojose")
	b.ReportMetric(per(cpuJWT), "cpu-µs/golangjwt")
	b.ReportMetric(float64(cpuJWT)/float64(cpuJose), "cpu-golangjwt/gojose")
}
