package enforce_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/frontdeskhq/frontdesk/identity/enforce"
)

var b64 = base64.RawURLEncoding

// rawSign builds a compact JWS from a literal header and payload, signed
// with key's private key under its own algorithm (ES256: raw r||s), so
// tests can shape every part independently of go-jose.
func rawSign(t testing.TB, key jose.JSONWebKey, header, payload string) string {
	t.Helper()
	input := b64.EncodeToString([]byte(header)) + "." + b64.EncodeToString([]byte(payload))
	digest := sha256.Sum256([]byte(input))
	var sig []byte
	switch k := key.Key.(type) {
	case *ecdsa.PrivateKey:
		r, s, err := ecdsa.Sign(rand.Reader, k, digest[:])
		if err != nil {
			t.Fatal(err)
		}
		sig = make([]byte, 64)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
	case *rsa.PrivateKey:
		var err error
		if sig, err = rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, digest[:]); err != nil {
			t.Fatal(err)
		}
	default:
		t.Fatalf("key type %T", key.Key)
	}
	return input + "." + b64.EncodeToString(sig)
}

func claimsJSON(t testing.TB, m map[string]any) string {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestCompactJWSShapes: first-sight verification reads the compact JWS
// itself (not through go-jose's parser), so every part of it is tested
// here as a class: accepted shapes and claim encodings, and refused
// headers, part counts, encodings, signatures and claim types, for both
// algorithms.
func TestCompactJWSShapes(t *testing.T) {
	is := newIssuer(t)
	es := is.addKey(t, jose.ES256, "es")
	rs := is.addKey(t, jose.RS256, "rs")
	v, err := enforce.New(enforce.Config{Issuer: is.srv.URL, Audience: "ehr", JWKSURL: is.srv.URL, CacheSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	now := time.Now()
	with := func(f func(m map[string]any)) string {
		m := goodClaims(is.srv.URL)
		f(m)
		return claimsJSON(t, m)
	}
	good := claimsJSON(t, goodClaims(is.srv.URL))
	esHdr := `{"alg":"ES256","kid":"es","typ":"at+jwt"}`
	rsHdr := `{"alg":"RS256","kid":"rs","typ":"at+jwt"}`

	accepted := map[string]string{
		"ES256":                     rawSign(t, es, esHdr, good),
		"RS256":                     rawSign(t, rs, rsHdr, good),
		"typ application/at+jwt":    rawSign(t, es, `{"alg":"ES256","kid":"es","typ":"application/at+jwt"}`, good),
		"typ in capitals":           rawSign(t, es, `{"alg":"ES256","kid":"es","typ":"AT+JWT"}`, good),
		"unknown header ignored":    rawSign(t, es, `{"alg":"ES256","kid":"es","typ":"at+jwt","x5t":"abc"}`, good),
		"aud a single string":       rawSign(t, es, esHdr, with(func(m map[string]any) { m["aud"] = "ehr" })),
		"aud among several":         rawSign(t, es, esHdr, with(func(m map[string]any) { m["aud"] = []string{"billing", "ehr"} })),
		"dates with fractions":      rawSign(t, es, esHdr, with(func(m map[string]any) { m["exp"] = float64(now.Add(time.Minute).Unix()) + 0.5 })),
		"nbf in the past":           rawSign(t, es, esHdr, with(func(m map[string]any) { m["nbf"] = now.Add(-time.Minute).Unix() })),
		"no optional claims at all": rawSign(t, es, esHdr, claimsJSON(t, map[string]any{"iss": is.srv.URL, "aud": "ehr", "exp": now.Add(time.Minute).Unix(), "sub": "m1"})),
	}
	for name, tok := range accepted {
		if _, err := v.Verify(ctx, tok); err != nil {
			t.Errorf("%s: refused: %v", name, err)
		}
	}

	goodES := accepted["ES256"]
	p := strings.Split(goodES, ".")
	sig, _ := b64.DecodeString(p[2])
	refused := map[string]string{
		"two parts":                   p[0] + "." + p[1],
		"four parts":                  goodES + "." + p[2],
		"five parts (JWE shape)":      p[0] + "." + p[1] + "." + p[1] + "." + p[1] + "." + p[2],
		"empty":                       "",
		"JSON serialization":          `{"payload":"` + p[1] + `","protected":"` + p[0] + `","signature":"` + p[2] + `"}`,
		"header not base64url":        "*" + p[0][1:] + "." + p[1] + "." + p[2],
		"payload not base64url":       p[0] + "." + p[1] + "*." + p[2],
		"signature not base64url":     p[0] + "." + p[1] + "." + p[2] + "*",
		"padded signature":            goodES + "==",
		"header not JSON":             b64.EncodeToString([]byte("alg=ES256")) + "." + p[1] + "." + p[2],
		"header not an object":        rawSign(t, es, `["ES256"]`, good),
		"critical extension":          rawSign(t, es, `{"alg":"ES256","kid":"es","typ":"at+jwt","crit":["exp"],"exp":1}`, good),
		"b64 false":                   rawSign(t, es, `{"alg":"ES256","kid":"es","typ":"at+jwt","crit":["b64"],"b64":false}`, good),
		"no typ":                      rawSign(t, es, `{"alg":"ES256","kid":"es"}`, good),
		"typ JWT (an ID token)":       rawSign(t, es, `{"alg":"ES256","kid":"es","typ":"JWT"}`, good),
		"alg none":                    b64.EncodeToString([]byte(`{"alg":"none","kid":"es","typ":"at+jwt"}`)) + "." + p[1] + ".",
		"alg ES384":                   rawSign(t, es, `{"alg":"ES384","kid":"es","typ":"at+jwt"}`, good),
		"alg PS256":                   rawSign(t, rs, `{"alg":"PS256","kid":"rs","typ":"at+jwt"}`, good),
		"alg RS256 on the EC key":     rawSign(t, es, `{"alg":"RS256","kid":"es","typ":"at+jwt"}`, good),
		"alg ES256 on the RSA key":    rawSign(t, rs, `{"alg":"ES256","kid":"rs","typ":"at+jwt"}`, good),
		"kid of the other key":        rawSign(t, es, `{"alg":"ES256","kid":"rs","typ":"at+jwt"}`, good),
		"unknown kid":                 rawSign(t, es, `{"alg":"ES256","kid":"zz","typ":"at+jwt"}`, good),
		"signature one byte short":    p[0] + "." + p[1] + "." + b64.EncodeToString(sig[:63]),
		"signature one byte long":     p[0] + "." + p[1] + "." + b64.EncodeToString(append(append([]byte{}, sig...), 0)),
		"signature r and s swapped":   p[0] + "." + p[1] + "." + b64.EncodeToString(append(append([]byte{}, sig[32:]...), sig[:32]...)),
		"signature zero":              p[0] + "." + p[1] + "." + b64.EncodeToString(make([]byte, 64)),
		"another header, same sig":    b64.EncodeToString([]byte(`{"alg":"ES256","kid":"es","typ":"at+jwt","x":1}`)) + "." + p[1] + "." + p[2],
		"payload not JSON":            rawSign(t, es, esHdr, "not json"),
		"payload an array":            rawSign(t, es, esHdr, `["iss"]`),
		"exp a string":                rawSign(t, es, esHdr, with(func(m map[string]any) { m["exp"] = "soon" })),
		"exp null":                    rawSign(t, es, esHdr, with(func(m map[string]any) { m["exp"] = nil })),
		"aud a number":                rawSign(t, es, esHdr, with(func(m map[string]any) { m["aud"] = 7 })),
		"aud an object":               rawSign(t, es, esHdr, with(func(m map[string]any) { m["aud"] = map[string]string{"ehr": "ehr"} })),
		"roles not strings":           rawSign(t, es, esHdr, with(func(m map[string]any) { m["roles"] = []int{1} })),
		"nbf in the future":           rawSign(t, es, esHdr, with(func(m map[string]any) { m["nbf"] = now.Add(time.Hour).Unix() })),
		"iat in the future":           rawSign(t, es, esHdr, with(func(m map[string]any) { m["iat"] = now.Add(time.Hour).Unix() })),
		"expired (RS256)":             rawSign(t, rs, rsHdr, with(func(m map[string]any) { m["exp"] = now.Add(-time.Hour).Unix() })),
		"other audience (RS256)":      rawSign(t, rs, rsHdr, with(func(m map[string]any) { m["aud"] = "billing" })),
		"too long":                    rawSign(t, es, esHdr, with(func(m map[string]any) { m["pad"] = strings.Repeat("a", 64<<10) })),
		"RSA signature bit flipped":   flipLast(accepted["RS256"]),
		"ES256 signature bit flipped": flipLast(goodES),
	}
	for name, tok := range refused {
		if c, err := v.Verify(ctx, tok); !errors.Is(err, enforce.ErrInvalidToken) {
			t.Errorf("%s: Verify = %+v, %v; want ErrInvalidToken", name, c, err)
		}
	}
}

// flipLast changes one bit of a token's signature.
func flipLast(tok string) string {
	dot := strings.LastIndexByte(tok, '.')
	sig, _ := b64.DecodeString(tok[dot+1:])
	sig[len(sig)/2] ^= 1
	return tok[:dot+1] + b64.EncodeToString(sig)
}

// TestClaimsDecodedAsBefore: the claims Verify returns, for a token with
// every claim frontdesk puts in access tokens, are exactly the values
// written (dates in whole seconds).
func TestClaimsDecodedAsBefore(t *testing.T) {
	is := newIssuer(t)
	es := is.addKey(t, jose.ES256, "es")
	v, _ := enforce.New(enforce.Config{Issuer: is.srv.URL, Audience: "ehr", JWKSURL: is.srv.URL})
	now := time.Now().Truncate(time.Second)
	m := goodClaims(is.srv.URL)
	m["iat"], m["auth_time"], m["elevated_until"] = now.Unix(), now.Add(-time.Minute).Unix(), now.Add(time.Hour).Unix()
	m["exp"] = now.Add(5 * time.Minute).Unix()
	c, err := v.Verify(context.Background(), rawSign(t, es, `{"alg":"ES256","kid":"es","typ":"at+jwt"}`, claimsJSON(t, m)))
	if err != nil {
		t.Fatal(err)
	}
	want := enforce.Claims{Issuer: is.srv.URL, Subject: "m1", Audience: []string{"ehr"}, Expiry: now.Add(5 * time.Minute),
		IssuedAt: now, ID: "j1", ClientID: "ehr", Scopes: []string{"openid", "email"}, Practice: "sunrise", PracticeID: "p1",
		Roles: []string{"clinician"}, Permissions: []string{"notes.write:assigned", "clients.read:all"}, AMR: []string{"pwd"},
		AuthTime: now.Add(-time.Minute), SessionID: "s1", ElevatedUntil: now.Add(time.Hour)}
	gotJSON, _ := json.Marshal(c)
	wantJSON, _ := json.Marshal(want)
	if string(gotJSON) != string(wantJSON) {
		t.Errorf("claims:\n got %s\nwant %s", gotJSON, wantJSON)
	}
}
