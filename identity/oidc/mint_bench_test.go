package oidc

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
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
