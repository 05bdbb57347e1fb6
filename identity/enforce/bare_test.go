package enforce_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/frontdeskhq/frontdesk/identity/enforce"
)

// bareCheck is the least work of accepting a JWS: split it, decode the
// signature, hash the signing input and check the signature with the public
// key — no header or claims parsing, no key lookup. It is what first-sight
// verification is measured against (issue 20 point 7).
func bareCheck(pub any, token string) bool {
	dot := strings.LastIndexByte(token, '.')
	if dot < 0 {
		return false
	}
	sig, err := base64.RawURLEncoding.DecodeString(token[dot+1:])
	if err != nil {
		return false
	}
	digest := sha256.Sum256([]byte(token[:dot]))
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if len(sig) != 64 {
			return false
		}
		return ecdsa.Verify(k, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:]))
	case *rsa.PublicKey:
		return rsa.VerifyPKCS1v15(k, crypto.SHA256, digest[:], sig) == nil
	}
	return false
}

// TestBareCheck makes sure the baseline checks what it claims: it accepts the
// issuer's tokens and refuses one altered byte, for each algorithm.
func TestBareCheck(t *testing.T) {
	is := newIssuer(t)
	for _, alg := range []jose.SignatureAlgorithm{jose.ES256, jose.RS256} {
		t.Run(string(alg), func(t *testing.T) {
			k := is.addKey(t, alg, "k-"+string(alg))
			tok := sign(t, k, alg, "at+jwt", goodClaims(is.srv.URL))
			if !bareCheck(k.Public().Key, tok) {
				t.Fatal("good token refused")
			}
			parts := strings.Split(tok, ".")
			parts[1] = parts[1][:10] + string(parts[1][10]^1) + parts[1][11:]
			if bareCheck(k.Public().Key, strings.Join(parts, ".")) {
				t.Fatal("altered token accepted")
			}
		})
	}
}

// firstSight and bare are the two measured calls, kept out of line so that
// profiles name them.
//
//go:noinline
func firstSight(ctx context.Context, v *enforce.Verifier, tok string) error {
	_, err := v.Verify(ctx, tok)
	return err
}

//go:noinline
func bare(pub any, tok string) bool { return bareCheck(pub, tok) }

// BenchmarkFirstSightVsBare alternates, in one loop, enforce's first-sight
// verification (cache off) and the bare signature check of the same token,
// in blocks of 16 calls each, so both see the same load. It reports each
// one's process CPU time per call (getrusage around each block: on shared
// cores wall time moves with other processes' load, CPU time far less) and
// their ratio enforce÷bare (issue 20 point 7: target ≤ 1.10), and the
// wall-time ratio as well.
func BenchmarkFirstSightVsBare(b *testing.B) {
	const block = 16
	for _, alg := range []jose.SignatureAlgorithm{jose.ES256, jose.RS256} {
		b.Run(string(alg), func(b *testing.B) {
			is := newIssuer(b)
			k := is.addKey(b, alg, "k1")
			v, err := enforce.New(enforce.Config{Issuer: is.srv.URL, Audience: "ehr", JWKSURL: is.srv.URL, CacheSize: -1})
			if err != nil {
				b.Fatal(err)
			}
			tok := sign(b, k, alg, "at+jwt", goodClaims(is.srv.URL))
			ctx := context.Background()
			if _, err := v.Verify(ctx, tok); err != nil {
				b.Fatal(err)
			}
			pub := k.Public().Key
			var wallEnforce, wallBare, cpuEnforce, cpuBare time.Duration
			for b.Loop() {
				c0, t0 := cpuTime(), time.Now()
				for range block {
					if err := firstSight(ctx, v, tok); err != nil {
						b.Fatal(err)
					}
				}
				c1, t1 := cpuTime(), time.Now()
				for range block {
					if !bare(pub, tok) {
						b.Fatal("bare check refused")
					}
				}
				c2, t2 := cpuTime(), time.Now()
				wallEnforce, wallBare = wallEnforce+t1.Sub(t0), wallBare+t2.Sub(t1)
				cpuEnforce, cpuBare = cpuEnforce+c1-c0, cpuBare+c2-c1
			}
			n := float64(b.N * block)
			b.ReportMetric(float64(cpuEnforce)/float64(time.Microsecond)/n, "enforce-cpu-µs")
			b.ReportMetric(float64(cpuBare)/float64(time.Microsecond)/n, "bare-cpu-µs")
			b.ReportMetric(float64(cpuEnforce)/float64(cpuBare), "cpu-enforce/bare")
			b.ReportMetric(float64(wallEnforce)/float64(wallBare), "wall-enforce/bare")
		})
	}
}

// BenchmarkPartsVsBare measures, alternating with the bare check in blocks
// of 16 as BenchmarkFirstSightVsBare does, the parts of a first-sight
// verification that do not depend on the library around them: decoding the
// claims into enforce's struct with encoding/json (what any verification
// must do to read them) and decoding the JOSE header into a map (what
// golang-jwt does). Each is reported as CPU per call and as a ratio to the
// bare check: the part of the 10% (issue 20 point 7) it alone uses.
func BenchmarkPartsVsBare(b *testing.B) {
	const block = 16
	for _, alg := range []jose.SignatureAlgorithm{jose.ES256, jose.RS256} {
		b.Run(string(alg), func(b *testing.B) {
			is := newIssuer(b)
			k := is.addKey(b, alg, "k1")
			tok := sign(b, k, alg, "at+jwt", goodClaims(is.srv.URL))
			parts := strings.Split(tok, ".")
			header, err := base64.RawURLEncoding.DecodeString(parts[0])
			if err != nil {
				b.Fatal(err)
			}
			payload, err := base64.RawURLEncoding.DecodeString(parts[1])
			if err != nil {
				b.Fatal(err)
			}
			pub := k.Public().Key
			var cpuClaims, cpuHeader, cpuBare time.Duration
			for b.Loop() {
				c0 := cpuTime()
				for range block {
					if err := enforce.DecodeClaims(payload); err != nil {
						b.Fatal(err)
					}
				}
				c1 := cpuTime()
				for range block {
					var h map[string]any
					if err := json.Unmarshal(header, &h); err != nil {
						b.Fatal(err)
					}
				}
				c2 := cpuTime()
				for range block {
					if !bare(pub, tok) {
						b.Fatal("bare check refused")
					}
				}
				c3 := cpuTime()
				cpuClaims, cpuHeader, cpuBare = cpuClaims+c1-c0, cpuHeader+c2-c1, cpuBare+c3-c2
			}
			n := float64(b.N * block)
			b.ReportMetric(float64(cpuBare)/float64(time.Microsecond)/n, "bare-cpu-µs")
			b.ReportMetric(float64(cpuClaims)/float64(time.Microsecond)/n, "claims-cpu-µs")
			b.ReportMetric(float64(cpuHeader)/float64(time.Microsecond)/n, "header-cpu-µs")
			b.ReportMetric(float64(cpuClaims)/float64(cpuBare), "cpu-claims/bare")
			b.ReportMetric(float64(cpuHeader)/float64(cpuBare), "cpu-header/bare")
		})
	}
}
