package enforce_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"

	"github.com/frontdeskhq/frontdesk/identity/enforce"
)

// signWith signs claims as a compact JWS with the signer options given
// (headers beyond typ and kid), or in the JSON serialization when full.
func signWith(t *testing.T, keys []jose.SigningKey, opts *jose.SignerOptions, claims map[string]any, full bool) string {
	t.Helper()
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	var s jose.Signer
	if len(keys) == 1 {
		s, err = jose.NewSigner(keys[0], opts)
	} else {
		s, err = jose.NewMultiSigner(keys, opts)
	}
	if err != nil {
		t.Fatal(err)
	}
	obj, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	if full {
		return obj.FullSerialize()
	}
	tok, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestVerifyRefusesWhatTheLibrariesMightDifferOn: enforce parses and checks
// tokens with golang-jwt and reads keys with go-jose; each refusal here is
// one that a JWT library may or may not make by itself (alg confusion with
// the published public key as an HMAC secret, the JSON serialization and
// several signatures, critical headers, a key of the wrong type, base64
// that is not canonical, more or fewer segments), so enforce must refuse it
// whatever library does the parsing — for both algorithms where the
// algorithm matters.
func TestVerifyRefusesWhatTheLibrariesMightDifferOn(t *testing.T) {
	is := newIssuer(t)
	es := is.addKey(t, jose.ES256, "es")
	rs := is.addKey(t, jose.RS256, "rs")
	// A published EC key without an alg: only the key's type stops an RS256
	// token naming it.
	noalg := is.addKey(t, jose.ES256, "noalg")
	is.mu.Lock()
	is.keys[len(is.keys)-1].Algorithm = ""
	is.mu.Unlock()
	v, err := enforce.New(enforce.Config{Issuer: is.srv.URL, Audience: "ehr", JWKSURL: is.srv.URL, CacheSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	claims := goodClaims(is.srv.URL)
	at := func() *jose.SignerOptions { return (&jose.SignerOptions{}).WithType("at+jwt") }
	sk := func(alg jose.SignatureAlgorithm, k jose.JSONWebKey) []jose.SigningKey {
		return []jose.SigningKey{{Algorithm: alg, Key: k}}
	}
	for _, tc := range []struct {
		alg jose.SignatureAlgorithm
		key jose.JSONWebKey
	}{{jose.ES256, es}, {jose.RS256, rs}} {
		// The sanity check: the helper's tokens are accepted when nothing is wrong.
		if _, err := v.Verify(ctx, signWith(t, sk(tc.alg, tc.key), at(), claims, false)); err != nil {
			t.Fatalf("%s: good token refused: %v", tc.alg, err)
		}
	}

	// HS256 with the published public key (as the JWKS serves it, as DER,
	// as PEM) for the HMAC secret, naming that key's kid.
	hmacWith := func(k jose.JSONWebKey) map[string]string {
		pub := k.Public()
		der, err := x509.MarshalPKIXPublicKey(pub.Key)
		if err != nil {
			t.Fatal(err)
		}
		jwk, err := pub.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		secrets := map[string][]byte{"DER": der, "PEM": pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), "JWK": jwk}
		out := map[string]string{}
		for name, secret := range secrets {
			out[name] = signWith(t, sk(jose.HS256, jose.JSONWebKey{Key: secret, KeyID: k.KeyID}), at(), claims, false)
		}
		return out
	}
	foreignEC, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	good := signWith(t, sk(jose.ES256, es), at(), claims, false)
	parts := strings.Split(good, ".")
	// The ES256 signature is 64 bytes, 86 base64 characters whose last one
	// carries 4 unused bits: flipping one of them changes the text, not the
	// bytes.
	last := parts[2][len(parts[2])-1]
	loose := parts[0] + "." + parts[1] + "." + parts[2][:len(parts[2])-1] + string(base64URLAlphabet[strings.IndexByte(base64URLAlphabet, last)^1])
	header := func(h string) string {
		return base64.RawURLEncoding.EncodeToString([]byte(h)) + "." + parts[1] + "." + parts[2]
	}

	refused := map[string]string{
		"JSON serialization, one signature": signWith(t, sk(jose.ES256, es), at(), claims, true),
		"JSON serialization, two signatures": signWith(t, []jose.SigningKey{{Algorithm: jose.ES256, Key: es}, {Algorithm: jose.RS256, Key: rs}},
			at(), claims, true),
		"crit naming an unknown header ES256": signWith(t, sk(jose.ES256, es), at().WithHeader("crit", []string{"x-frontdesk"}).WithHeader("x-frontdesk", true), claims, false),
		"crit naming an unknown header RS256": signWith(t, sk(jose.RS256, rs), at().WithHeader("crit", []string{"x-frontdesk"}).WithHeader("x-frontdesk", true), claims, false),
		"crit naming a registered claim":      signWith(t, sk(jose.ES256, es), at().WithHeader("crit", []string{"exp"}), claims, false),
		"crit b64 (RFC 7797)":                 signWith(t, sk(jose.ES256, es), at().WithHeader("crit", []string{"b64"}).WithHeader("b64", true), claims, false),
		"b64 without crit":                    signWith(t, sk(jose.ES256, es), at().WithHeader("b64", true), claims, false),
		"RS256 naming an EC key without alg":  signWith(t, sk(jose.RS256, jose.JSONWebKey{Key: rs.Key, KeyID: noalg.KeyID}), at(), claims, false),
		"ES256 naming the RS256 key":          signWith(t, sk(jose.ES256, jose.JSONWebKey{Key: foreignEC, KeyID: rs.KeyID}), at(), claims, false),
		"RS256 naming the ES256 key":          signWith(t, sk(jose.RS256, jose.JSONWebKey{Key: rs.Key, KeyID: es.KeyID}), at(), claims, false),
		"signature in non-canonical base64":   loose,
		"padded signature":                    good + "==",
		"four segments":                       good + ".",
		"five segments (JWE shape)":           good + ".e30",
		"two segments":                        parts[0] + "." + parts[1],
		"empty signature":                     parts[0] + "." + parts[1] + ".",
		"alg None":                            header(`{"alg":"None","typ":"at+jwt","kid":"es"}`),
		"alg es256 (lower case)":              header(`{"alg":"es256","typ":"at+jwt","kid":"es"}`),
		"typ under another case of key":       header(`{"alg":"ES256","TYP":"at+jwt","kid":"es"}`),
		"kid a number":                        header(`{"alg":"ES256","typ":"at+jwt","kid":7}`),
		"alg missing":                         header(`{"typ":"at+jwt","kid":"es"}`),
		"header not JSON":                     header(`alg=ES256`),
	}
	for name, tok := range hmacWith(rs) {
		refused["HS256 keyed with the RSA public key as "+name] = tok
	}
	for name, tok := range hmacWith(es) {
		refused["HS256 keyed with the EC public key as "+name] = tok
	}
	if loose == good {
		t.Fatal("the non-canonical signature is the same text")
	}
	for name, tok := range refused {
		if _, err := v.Verify(ctx, tok); !errors.Is(err, enforce.ErrInvalidToken) {
			t.Errorf("%s: err = %v, want ErrInvalidToken", name, err)
		}
	}
}

const base64URLAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// TestVerifyConcurrently: one Verifier (one golang-jwt parser, one key set)
// verifies good and bad tokens of both algorithms from many goroutines at
// once; run with -race it guards the shared parser.
func TestVerifyConcurrently(t *testing.T) {
	is := newIssuer(t)
	es := is.addKey(t, jose.ES256, "es")
	rs := is.addKey(t, jose.RS256, "rs")
	v, err := enforce.New(enforce.Config{Issuer: is.srv.URL, Audience: "ehr", JWKSURL: is.srv.URL, CacheSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	good := []string{sign(t, es, jose.ES256, "at+jwt", goodClaims(is.srv.URL)), sign(t, rs, jose.RS256, "at+jwt", goodClaims(is.srv.URL))}
	bad := []string{sign(t, es, jose.ES256, "JWT", goodClaims(is.srv.URL)), good[1][:len(good[1])-4] + "AAAA"}
	errs := make(chan error, 8*len(good)*2)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range good {
				if _, err := v.Verify(context.Background(), good[i]); err != nil {
					errs <- fmt.Errorf("good token %d refused: %w", i, err)
				}
				if _, err := v.Verify(context.Background(), bad[i]); !errors.Is(err, enforce.ErrInvalidToken) {
					errs <- fmt.Errorf("bad token %d: err = %v", i, err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestKeysUnavailableIsNotAnInvalidToken: when the JWKS cannot be fetched,
// Verify says ErrKeysUnavailable (the key look-up runs inside golang-jwt's
// parse, which must not turn it into ErrInvalidToken) and Middleware
// answers 503, not 401, for both algorithms.
func TestKeysUnavailableIsNotAnInvalidToken(t *testing.T) {
	is := newIssuer(t)
	keys := []jose.JSONWebKey{is.addKey(t, jose.ES256, "es"), is.addKey(t, jose.RS256, "rs")}
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "down", http.StatusInternalServerError)
	}))
	t.Cleanup(down.Close)
	v, err := enforce.New(enforce.Config{Issuer: is.srv.URL, Audience: "ehr", JWKSURL: down.URL, CacheSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	h := v.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { t.Error("handler reached") }))
	for _, k := range keys {
		tok := sign(t, k, jose.SignatureAlgorithm(k.Algorithm), "at+jwt", goodClaims(is.srv.URL))
		_, err := v.Verify(context.Background(), tok)
		if !errors.Is(err, enforce.ErrKeysUnavailable) || errors.Is(err, enforce.ErrInvalidToken) {
			t.Errorf("%s: err = %v, want ErrKeysUnavailable only", k.Algorithm, err)
		}
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusServiceUnavailable {
			t.Errorf("%s: middleware answered %d, want 503", k.Algorithm, w.Code)
		}
	}
}

// anySignature is a signing method that accepts every signature: what a
// package of the app could register under ES256's name.
type anySignature struct{ alg string }

func (m anySignature) Alg() string                      { return m.alg }
func (m anySignature) Verify(string, []byte, any) error { return nil }
func (m anySignature) Sign(string, any) ([]byte, error) { return []byte("sig"), nil }

// TestVerifyTrustsOnlyTheLibrarysOwnMethods: golang-jwt looks the token's
// alg up in a registry any package of the app can write to. With ES256 and
// RS256 replaced there by a method that accepts every signature, a forged
// token is still refused, and a good one too, since the check is no longer
// the library's. The test puts the library's methods back when it ends.
func TestVerifyTrustsOnlyTheLibrarysOwnMethods(t *testing.T) {
	is := newIssuer(t)
	es := is.addKey(t, jose.ES256, "es")
	v, err := enforce.New(enforce.Config{Issuer: is.srv.URL, Audience: "ehr", JWKSURL: is.srv.URL, CacheSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	good := signWith(t, []jose.SigningKey{{Algorithm: jose.ES256, Key: es}}, (&jose.SignerOptions{}).WithType("at+jwt"), goodClaims(is.srv.URL), false)
	if _, err := v.Verify(ctx, good); err != nil {
		t.Fatalf("good token refused before the registry was changed: %v", err)
	}
	parts := strings.Split(good, ".")
	forged := parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString([]byte("not a signature"))

	for _, m := range []jwt.SigningMethod{jwt.SigningMethodES256, jwt.SigningMethodRS256} {
		t.Cleanup(func() { jwt.RegisterSigningMethod(m.Alg(), func() jwt.SigningMethod { return m }) })
		jwt.RegisterSigningMethod(m.Alg(), func() jwt.SigningMethod { return anySignature{m.Alg()} })
	}
	for name, token := range map[string]string{"forged": forged, "good": good} {
		if _, err := v.Verify(ctx, token); !errors.Is(err, enforce.ErrInvalidToken) {
			t.Errorf("%s token with ES256 replaced in the registry: err = %v, want ErrInvalidToken", name, err)
		}
	}
}
