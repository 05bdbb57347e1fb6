package enforce_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/frontdeskhq/frontdesk/identity/enforce"
)

// TestClaimEncodings: the claims of a token are decoded by encoding/json
// into tokenClaims (golang-jwt's ParseWithClaims) and validated by
// golang-jwt's validator through its methods, so the class of claim
// encodings is tested
// here, for both algorithms: aud as a string or an array, dates with
// fractions, optional claims absent — accepted; dates, audiences or lists of
// the wrong JSON type, exp null or absent, nbf or iat in the future —
// refused as invalid tokens.
func TestClaimEncodings(t *testing.T) {
	is := newIssuer(t)
	keys := map[jose.SignatureAlgorithm]jose.JSONWebKey{
		jose.ES256: is.addKey(t, jose.ES256, "es"),
		jose.RS256: is.addKey(t, jose.RS256, "rs"),
	}
	v, err := enforce.New(enforce.Config{Issuer: is.srv.URL, Audience: "ehr", JWKSURL: is.srv.URL, CacheSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	with := func(f func(m map[string]any)) map[string]any {
		m := goodClaims(is.srv.URL)
		f(m)
		return m
	}
	accepted := map[string]map[string]any{
		"aud a single string":   with(func(m map[string]any) { m["aud"] = "ehr" }),
		"aud among several":     with(func(m map[string]any) { m["aud"] = []string{"billing", "ehr"} }),
		"dates with fractions":  with(func(m map[string]any) { m["exp"] = float64(now.Add(time.Minute).Unix()) + 0.5 }),
		"nbf in the past":       with(func(m map[string]any) { m["nbf"] = now.Add(-time.Minute).Unix() }),
		"unknown claims":        with(func(m map[string]any) { m["x-extra"] = map[string]any{"a": []int{1}} }),
		"only required claims":  {"iss": is.srv.URL, "aud": "ehr", "exp": now.Add(time.Minute).Unix(), "sub": "m1"},
		"empty lists and nulls": with(func(m map[string]any) { m["roles"], m["permissions"], m["amr"] = []string{}, nil, nil }),
	}
	refused := map[string]map[string]any{
		"exp a string":       with(func(m map[string]any) { m["exp"] = "soon" }),
		"exp null":           with(func(m map[string]any) { m["exp"] = nil }),
		"no exp":             with(func(m map[string]any) { delete(m, "exp") }),
		"iat a string":       with(func(m map[string]any) { m["iat"] = "now" }),
		"aud a number":       with(func(m map[string]any) { m["aud"] = 7 }),
		"aud an object":      with(func(m map[string]any) { m["aud"] = map[string]string{"ehr": "ehr"} }),
		"aud list of others": with(func(m map[string]any) { m["aud"] = []any{"billing", 7} }),
		"no aud":             with(func(m map[string]any) { delete(m, "aud") }),
		"roles not strings":  with(func(m map[string]any) { m["roles"] = []int{1} }),
		"scope a list":       with(func(m map[string]any) { m["scope"] = []string{"openid"} }),
		"nbf in the future":  with(func(m map[string]any) { m["nbf"] = now.Add(time.Hour).Unix() }),
		"iat in the future":  with(func(m map[string]any) { m["iat"] = now.Add(time.Hour).Unix() }),
		"expired":            with(func(m map[string]any) { m["exp"] = now.Add(-time.Hour).Unix() }),
		"other issuer":       with(func(m map[string]any) { m["iss"] = strings.ToUpper(is.srv.URL) }),
	}
	for alg, k := range keys {
		for name, claims := range accepted {
			if _, err := v.Verify(context.Background(), sign(t, k, alg, "at+jwt", claims)); err != nil {
				t.Errorf("%s %s: refused: %v", alg, name, err)
			}
		}
		for name, claims := range refused {
			if c, err := v.Verify(context.Background(), sign(t, k, alg, "at+jwt", claims)); !errors.Is(err, enforce.ErrInvalidToken) {
				t.Errorf("%s %s: Verify = %+v, %v; want ErrInvalidToken", alg, name, c, err)
			}
		}
	}
}

// TestClaimsDecoded: the claims Verify returns, for a token with every claim
// frontdesk puts in access tokens, are exactly the values written (dates in
// whole seconds).
func TestClaimsDecoded(t *testing.T) {
	is := newIssuer(t)
	es := is.addKey(t, jose.ES256, "es")
	v, _ := enforce.New(enforce.Config{Issuer: is.srv.URL, Audience: "ehr", JWKSURL: is.srv.URL})
	now := time.Now().Truncate(time.Second)
	m := goodClaims(is.srv.URL)
	m["iat"], m["auth_time"], m["elevated_until"] = now.Unix(), now.Add(-time.Minute).Unix(), now.Add(time.Hour).Unix()
	m["exp"] = now.Add(5 * time.Minute).Unix()
	c, err := v.Verify(context.Background(), sign(t, es, jose.ES256, "at+jwt", m))
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
