package enforce_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/frontdeskhq/frontdesk/identity/enforce"
)

// issuer is a fake frontdesk: a JWKS endpoint and keys to sign with.
type issuer struct {
	srv     *httptest.Server
	mu      sync.Mutex
	keys    []jose.JSONWebKey
	fetches atomic.Int32
}

func newIssuer(t testing.TB) *issuer {
	is := &issuer{}
	is.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		is.fetches.Add(1)
		is.mu.Lock()
		defer is.mu.Unlock()
		var pub jose.JSONWebKeySet
		for _, k := range is.keys {
			pub.Keys = append(pub.Keys, k.Public())
		}
		_ = json.NewEncoder(w).Encode(pub)
	}))
	t.Cleanup(is.srv.Close)
	return is
}

func (is *issuer) addKey(t testing.TB, alg jose.SignatureAlgorithm, kid string) jose.JSONWebKey {
	var k any
	switch alg {
	case jose.ES256:
		k, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case jose.RS256:
		k, _ = rsa.GenerateKey(rand.Reader, 2048)
	}
	jwk := jose.JSONWebKey{Key: k, KeyID: kid, Algorithm: string(alg), Use: "sig"}
	is.mu.Lock()
	is.keys = append(is.keys, jwk)
	is.mu.Unlock()
	return jwk
}

func sign(t testing.TB, key jose.JSONWebKey, alg jose.SignatureAlgorithm, typ string, claims map[string]any) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, (&jose.SignerOptions{}).WithType(jose.ContentType(typ)))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func goodClaims(iss string) map[string]any {
	now := time.Now()
	return map[string]any{"iss": iss, "sub": "m1", "aud": []string{"ehr"}, "exp": now.Add(5 * time.Minute).Unix(),
		"iat": now.Unix(), "jti": "j1", "client_id": "ehr", "scope": "openid email", "practice": "sunrise",
		"practice_id": "p1", "roles": []string{"clinician"}, "permissions": []string{"notes.write:assigned", "clients.read:all"},
		"amr": []string{"pwd"}, "auth_time": now.Unix(), "sid": "s1"}
}

func TestVerify(t *testing.T) {
	is := newIssuer(t)
	es := is.addKey(t, jose.ES256, "k1")
	rs := is.addKey(t, jose.RS256, "k2")
	v, err := enforce.New(enforce.Config{Issuer: is.srv.URL, Audience: "ehr", Practice: "sunrise", JWKSURL: is.srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		key  jose.JSONWebKey
		alg  jose.SignatureAlgorithm
	}{{"ES256", es, jose.ES256}, {"RS256", rs, jose.RS256}} {
		c, err := v.Verify(ctx, sign(t, tc.key, tc.alg, "at+jwt", goodClaims(is.srv.URL)))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if c.Subject != "m1" || c.Practice != "sunrise" || !c.Allowed("notes.write:own") || c.Allowed("notes.write:all") ||
			!c.Allowed("clients.read:supervisees") || c.SessionID != "s1" || len(c.Scopes) != 2 || !c.HasRole("clinician") {
			t.Errorf("%s: claims = %+v", tc.name, c)
		}
	}

	mutate := func(f func(m map[string]any)) map[string]any {
		m := goodClaims(is.srv.URL)
		f(m)
		return m
	}
	hmacKey := jose.JSONWebKey{Key: []byte("0123456789abcdef0123456789abcdef"), KeyID: "k1"}
	foreign := jose.JSONWebKey{KeyID: "k1"}
	foreign.Key, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	good := sign(t, es, jose.ES256, "at+jwt", goodClaims(is.srv.URL))
	parts := strings.Split(good, ".")
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"at+jwt","kid":"k1"}`)) + "." + parts[1] + "."
	for name, tok := range map[string]string{
		"ID token (typ JWT)": sign(t, es, jose.ES256, "JWT", goodClaims(is.srv.URL)),
		"alg none":           none,
		"HS256":              sign(t, hmacKey, jose.HS256, "at+jwt", goodClaims(is.srv.URL)),
		"foreign key":        sign(t, foreign, jose.ES256, "at+jwt", goodClaims(is.srv.URL)),
		"expired":            sign(t, es, jose.ES256, "at+jwt", mutate(func(m map[string]any) { m["exp"] = time.Now().Add(-time.Minute).Unix() })),
		"no exp":             sign(t, es, jose.ES256, "at+jwt", mutate(func(m map[string]any) { delete(m, "exp") })),
		"other audience":     sign(t, es, jose.ES256, "at+jwt", mutate(func(m map[string]any) { m["aud"] = []string{"billing"} })),
		"other issuer":       sign(t, es, jose.ES256, "at+jwt", mutate(func(m map[string]any) { m["iss"] = "https://evil.example" })),
		"other practice":     sign(t, es, jose.ES256, "at+jwt", mutate(func(m map[string]any) { m["practice"] = "moonrise" })),
		"tampered":           parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"admin"}`)) + "." + parts[2],
		"garbage":            "not.a.token",
	} {
		if _, err := v.Verify(ctx, tok); !errors.Is(err, enforce.ErrInvalidToken) {
			t.Errorf("%s: err = %v, want ErrInvalidToken", name, err)
		}
	}
}

func TestCachedTokenStillExpires(t *testing.T) {
	is := newIssuer(t)
	k := is.addKey(t, jose.ES256, "k1")
	var clock atomic.Int64
	clock.Store(time.Now().UnixNano())
	v, _ := enforce.New(enforce.Config{Issuer: is.srv.URL, Audience: "ehr", JWKSURL: is.srv.URL, CacheSize: 2,
		Now: func() time.Time { return time.Unix(0, clock.Load()) }})
	tok := sign(t, k, jose.ES256, "at+jwt", goodClaims(is.srv.URL))
	for range 3 {
		c, err := v.Verify(context.Background(), tok)
		if err != nil {
			t.Fatal(err)
		}
		c.Permissions = append(c.Permissions, "billing.read:all") // callers may not poison the cache
	}
	if c, _ := v.Verify(context.Background(), tok); c.Allowed("billing.read") {
		t.Error("a caller's change to Claims leaked into the cache")
	}
	clock.Add(int64(6 * time.Minute))
	if _, err := v.Verify(context.Background(), tok); !errors.Is(err, enforce.ErrInvalidToken) {
		t.Errorf("cached token after expiry: err = %v", err)
	}
}

func TestUnknownKidRefetchesRateLimited(t *testing.T) {
	is := newIssuer(t)
	k1 := is.addKey(t, jose.ES256, "k1")
	now := time.Now()
	var clock atomic.Int64
	clock.Store(now.UnixNano())
	v, _ := enforce.New(enforce.Config{Issuer: is.srv.URL, Audience: "ehr", JWKSURL: is.srv.URL,
		Now: func() time.Time { return time.Unix(0, clock.Load()) }})
	ctx := context.Background()
	if _, err := v.Verify(ctx, sign(t, k1, jose.ES256, "at+jwt", goodClaims(is.srv.URL))); err != nil {
		t.Fatal(err)
	}
	for range 5 { // cached: no more fetches
		_, _ = v.Verify(ctx, sign(t, k1, jose.ES256, "at+jwt", goodClaims(is.srv.URL)))
	}
	if n := is.fetches.Load(); n != 1 {
		t.Fatalf("%d fetches, want 1", n)
	}
	// A key rotated in is found by refetching, but not more than once a minute.
	k2 := is.addKey(t, jose.ES256, "k2")
	if _, err := v.Verify(ctx, sign(t, k2, jose.ES256, "at+jwt", goodClaims(is.srv.URL))); err == nil {
		t.Error("new key accepted within the refresh interval without refetching")
	}
	clock.Add(int64(2 * time.Minute))
	if _, err := v.Verify(ctx, sign(t, k2, jose.ES256, "at+jwt", goodClaims(is.srv.URL))); err != nil {
		t.Fatalf("rotated key after the interval: %v", err)
	}
	unpublished := jose.JSONWebKey{KeyID: "k9"}
	unpublished.Key, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	for range 5 {
		if _, err := v.Verify(ctx, sign(t, unpublished, jose.ES256, "at+jwt", goodClaims(is.srv.URL))); err == nil {
			t.Fatal("token with an unpublished kid accepted")
		}
	}
	if n := is.fetches.Load(); n != 2 {
		t.Errorf("%d fetches, want 2 (unknown kids must not hammer the JWKS)", n)
	}
}

func TestMiddlewareAndRequire(t *testing.T) {
	is := newIssuer(t)
	k := is.addKey(t, jose.ES256, "k1")
	v, _ := enforce.New(enforce.Config{Issuer: is.srv.URL, Audience: "ehr", JWKSURL: is.srv.URL})
	h := v.Middleware(enforce.Require("notes.write:own", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := enforce.FromContext(r.Context())
		_, _ = w.Write([]byte(c.Subject))
	})))
	billing := v.Middleware(enforce.Require("billing.read", http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})))
	tok := sign(t, k, jose.ES256, "at+jwt", goodClaims(is.srv.URL))
	for _, tc := range []struct {
		h    http.Handler
		auth string
		want int
	}{
		{h, "Bearer " + tok, 200},
		{h, "", 401},
		{h, "Bearer garbage", 401},
		{h, "Basic " + tok, 401},
		{billing, "Bearer " + tok, 403},
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		if tc.auth != "" {
			r.Header.Set("Authorization", tc.auth)
		}
		w := httptest.NewRecorder()
		tc.h.ServeHTTP(w, r)
		if w.Code != tc.want {
			t.Errorf("%q: %d, want %d", tc.auth, w.Code, tc.want)
		}
	}
}

// The first verification of a token checks its signature; later ones hit
// the cache.
func BenchmarkVerifyES256(b *testing.B)  { benchVerify(b, jose.ES256, -1) }
func BenchmarkVerifyRS256(b *testing.B)  { benchVerify(b, jose.RS256, -1) }
func BenchmarkVerifyCached(b *testing.B) { benchVerify(b, jose.ES256, 0) }

func benchVerify(b *testing.B, alg jose.SignatureAlgorithm, cache int) {
	is := newIssuer(b)
	k := is.addKey(b, alg, "k1")
	v, _ := enforce.New(enforce.Config{Issuer: is.srv.URL, Audience: "ehr", JWKSURL: is.srv.URL, CacheSize: cache})
	tok := sign(b, k, alg, "at+jwt", goodClaims(is.srv.URL))
	ctx := context.Background()
	if _, err := v.Verify(ctx, tok); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	defer reportCPU(b)()
	for b.Loop() {
		if _, err := v.Verify(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}
