package main

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	jwtv5 "github.com/golang-jwt/jwt/v5"

	"github.com/frontdeskhq/frontdesk/identity/enforce"
)

// appVerifiers are the ways a third-party app may check a frontdesk access
// token offline, each set up for one issuer, audience and public key.
func appVerifiers(tb testing.TB, issuer string, pub crypto.PublicKey, alg jose.SignatureAlgorithm, jwksURL string) []struct {
	name   string
	verify func(context.Context, string) error
} {
	tb.Helper()
	enf, err := enforce.New(enforce.Config{Issuer: issuer, Audience: "ehr", JWKSURL: jwksURL, CacheSize: -1})
	if err != nil {
		tb.Fatal(err)
	}
	cached, err := enforce.New(enforce.Config{Issuer: issuer, Audience: "ehr", JWKSURL: jwksURL})
	if err != nil {
		tb.Fatal(err)
	}
	gooidc := oidc.NewVerifier(issuer, &oidc.StaticKeySet{PublicKeys: []crypto.PublicKey{pub}},
		&oidc.Config{ClientID: "ehr", SupportedSigningAlgs: []string{string(alg)}})
	return []struct {
		name   string
		verify func(context.Context, string) error
	}{
		{"enforce", func(ctx context.Context, tok string) error { _, err := enf.Verify(ctx, tok); return err }},
		{"enforce-cached", func(ctx context.Context, tok string) error { _, err := cached.Verify(ctx, tok); return err }},
		{"go-oidc", func(ctx context.Context, tok string) error { _, err := gooidc.Verify(ctx, tok); return err }},
		{"go-jose", func(_ context.Context, tok string) error {
			t, err := jwt.ParseSigned(tok, []jose.SignatureAlgorithm{alg})
			if err != nil {
				return err
			}
			var c jwt.Claims
			var priv map[string]any
			if err := t.Claims(pub, &c, &priv); err != nil {
				return err
			}
			return c.Validate(jwt.Expected{Issuer: issuer, AnyAudience: jwt.Audience{"ehr"}, Time: time.Now()})
		}},
		{"golang-jwt", func(_ context.Context, tok string) error {
			_, err := jwtv5.ParseWithClaims(tok, jwtv5.MapClaims{}, func(*jwtv5.Token) (any, error) { return pub, nil },
				jwtv5.WithValidMethods([]string{string(alg)}), jwtv5.WithIssuer(issuer), jwtv5.WithAudience("ehr"),
				jwtv5.WithExpirationRequired())
			return err
		}},
	}
}

// appIssuer signs frontdesk-shaped access tokens with a fresh key of alg and
// publishes its public key.
func appIssuer(tb testing.TB, alg jose.SignatureAlgorithm) (issuer, jwksURL, token string, pub crypto.PublicKey) {
	tb.Helper()
	var key crypto.Signer
	var err error
	switch alg {
	case jose.ES256:
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case jose.RS256:
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	}
	if err != nil {
		tb.Fatal(err)
	}
	jwk := jose.JSONWebKey{Key: key.Public(), KeyID: "k1", Algorithm: string(alg), Use: "sig"}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{jwk}})
	}))
	tb.Cleanup(srv.Close)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: key, KeyID: "k1"}},
		(&jose.SignerOptions{}).WithType("at+jwt"))
	if err != nil {
		tb.Fatal(err)
	}
	now := time.Now()
	// The claims of a member's access token as frontdesk mints them.
	token, err = jwt.Signed(signer).Claims(map[string]any{"iss": srv.URL, "sub": "m1", "aud": []string{"ehr"},
		"exp": now.Add(5 * time.Minute).Unix(), "iat": now.Unix(), "jti": "j1", "client_id": "ehr", "scope": "openid email",
		"practice": "sunrise", "practice_id": "p1", "roles": []string{"clinician"},
		"permissions": []string{"notes.write:assigned", "clients.read:all"}, "amr": []string{"pwd"}, "auth_time": now.Unix(), "sid": "s1"}).Serialize()
	if err != nil {
		tb.Fatal(err)
	}
	return srv.URL, srv.URL, token, key.Public()
}

// TestAppVerifiers checks that every verifier in the third-party table
// accepts a good token and refuses one for another audience, for each
// algorithm frontdesk signs access tokens with.
func TestAppVerifiers(t *testing.T) {
	ctx := context.Background()
	for _, alg := range []jose.SignatureAlgorithm{jose.ES256, jose.RS256} {
		iss, jwks, tok, pub := appIssuer(t, alg)
		other, _, _, _ := appIssuer(t, alg) // another issuer's key
		for _, v := range appVerifiers(t, iss, pub, alg, jwks) {
			if err := v.verify(ctx, tok); err != nil {
				t.Errorf("%s %s: refused a good token: %v", alg, v.name, err)
			}
		}
		for _, v := range appVerifiers(t, other, pub, alg, jwks) {
			if err := v.verify(ctx, tok); err == nil {
				t.Errorf("%s %s: accepted a token of another issuer", alg, v.name)
			}
		}
	}
}

// BenchmarkAppVerify is the table of what a third-party app pays per access
// token verification (docs/performance.md): each iteration runs every
// verifier in turn, 16 calls each on the same token, so all of them see the
// same load; each one's process CPU time per verification (getrusage around
// its block: on shared cores wall time moves with other processes' load, CPU
// time far less) and wall µs per verification are reported.
func BenchmarkAppVerify(b *testing.B) {
	const block = 16
	ctx := context.Background()
	for _, alg := range []jose.SignatureAlgorithm{jose.ES256, jose.RS256} {
		b.Run(string(alg), func(b *testing.B) {
			iss, jwks, tok, pub := appIssuer(b, alg)
			vs := appVerifiers(b, iss, pub, alg, jwks)
			wall := make([]time.Duration, len(vs))
			cpu := make([]time.Duration, len(vs))
			for _, v := range vs {
				if err := v.verify(ctx, tok); err != nil {
					b.Fatal(v.name, err)
				}
			}
			for b.Loop() {
				for i, v := range vs {
					c0, t0 := processCPU(), time.Now()
					for range block {
						if err := v.verify(ctx, tok); err != nil {
							b.Fatal(v.name, err)
						}
					}
					cpu[i] += processCPU() - c0
					wall[i] += time.Since(t0)
				}
			}
			n := float64(b.N * block)
			for i, v := range vs {
				b.ReportMetric(float64(cpu[i])/float64(time.Microsecond)/n, v.name+"-cpu-µs")
				b.ReportMetric(float64(wall[i])/float64(time.Microsecond)/n, v.name+"-µs")
			}
		})
	}
}
