package oidc_test

import (
	"encoding/base64"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"

	fdoidc "github.com/frontdeskhq/frontdesk/identity/oidc"
	"github.com/frontdeskhq/frontdesk/identity/store"
)

// TestClientCredentialsFastPathMatchesLibrary: frontdesk serves the common
// client-credentials request itself (token_client.go) and everything else
// through the library. For a table of token requests — the served shape
// and each way of leaving it: wrong or unknown credentials, clients without
// the grant or without a secret, credentials in the form or twice, repeated,
// extra or query parameters, odd encodings, other methods and bodies — only
// the "served" ones are served by the fast path, and the answer with the
// fast path equals the library's alone: status, headers
// (but the request ID), and body (for issued tokens: the same claims but
// the token's own ID and times).
func TestClientCredentialsFastPathMatchesLibrary(t *testing.T) {
	e := newEnv(t, store.SQLite)
	type request struct {
		method, query, contentType, body string
		user, pass                       string
		basic                            bool
	}
	form := func(v url.Values) string { return v.Encode() }
	cc := url.Values{"grant_type": {"client_credentials"}}
	with := func(kv ...string) string {
		v := url.Values{}
		maps.Copy(v, cc)
		for i := 0; i < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		return form(v)
	}
	post := func(body string) request {
		return request{method: http.MethodPost, contentType: "application/x-www-form-urlencoded", body: body,
			user: "ehr", pass: ehrSecret, basic: true}
	}
	cases := map[string]request{
		"served: one scope":        post(with("scope", "schedule.read")),
		"served: no scope":         post(form(cc)),
		"served: empty scope":      post(with("scope", "")),
		"served: refused scope":    post(with("scope", "openid")),
		"served: two scopes":       post(with("scope", "schedule.read profile")),
		"served: double space":     post(with("scope", "schedule.read  profile")),
		"served: encoded basic id": func() request { r := post(form(cc)); r.user = "eh%72"; return r }(),
		"wrong secret":             func() request { r := post(form(cc)); r.pass = "nope"; return r }(),
		"empty secret":             func() request { r := post(form(cc)); r.pass = ""; return r }(),
		"unknown client":           func() request { r := post(form(cc)); r.user = "nobody"; return r }(),
		"empty client":             func() request { r := post(form(cc)); r.user = ""; return r }(),
		"bad escape in id":         func() request { r := post(form(cc)); r.user = "%zz"; return r }(),
		"bad escape in secret":     func() request { r := post(form(cc)); r.pass = "%zz"; return r }(),
		"client without the grant": func() request { r := post(form(cc)); r.user = "basic"; return r }(),
		"public client":            func() request { r := post(form(cc)); r.user, r.pass = "spa", ""; return r }(),
		"basic and client_id":      post(with("client_id", "ehr")),
		"basic and client_secret":  post(with("client_secret", ehrSecret)),
		"secret in the form only": func() request {
			r := post(with("client_id", "ehr", "client_secret", ehrSecret))
			r.basic = false
			return r
		}(),
		"no client authentication": func() request { r := post(form(cc)); r.basic = false; return r }(),
		"grant_type twice":         post(form(url.Values{"grant_type": {"client_credentials", "client_credentials"}})),
		"scope twice":              post(with("scope", "schedule.read", "scope", "profile")),
		"extra parameter":          post(with("resource", "https://api.example")),
		"client assertion":         post(with("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", "client_assertion", "x.y.z")),
		"query parameter":          func() request { r := post(form(cc)); r.query = "scope=schedule.read"; return r }(),
		"grant in the query only":  func() request { r := post(""); r.query = "grant_type=client_credentials"; return r }(),
		"another grant":            post(form(url.Values{"grant_type": {"password"}})),
		"no grant":                 post(""),
		"grant in capitals":        post(form(url.Values{"grant_type": {"CLIENT_CREDENTIALS"}})),
		"JSON body": func() request {
			r := post(`{"grant_type":"client_credentials"}`)
			r.contentType = "application/json"
			return r
		}(),
		"GET": func() request {
			r := post("")
			r.method, r.query = http.MethodGet, "grant_type=client_credentials"
			return r
		}(),
		"malformed form": post("grant_type=client_credentials&scope=%zz"),
	}
	send := func(rq request) *httptest.ResponseRecorder {
		target := e.srv.URL + "/oauth2/token"
		if rq.query != "" {
			target += "?" + rq.query
		}
		req := httptest.NewRequest(rq.method, target, strings.NewReader(rq.body))
		if rq.contentType != "" {
			req.Header.Set("Content-Type", rq.contentType)
		}
		if rq.basic {
			req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(rq.user+":"+rq.pass)))
		}
		w := httptest.NewRecorder()
		e.handler.ServeHTTP(w, req)
		return w
	}
	served := 0
	for _, name := range slices.Sorted(maps.Keys(cases)) {
		rq := cases[name]
		t.Run(name, func(t *testing.T) {
			servedHere := false
			fdoidc.OnFastPath(e.provider, func() { servedHere = true })
			fast := send(rq)
			fdoidc.OnFastPath(e.provider, nil)
			if want := strings.HasPrefix(name, "served: "); servedHere != want {
				t.Errorf("served by the fast path: %v, want %v", servedHere, want)
			}
			fdoidc.DisableFastPath(e.provider)
			lib := send(rq)
			fdoidc.EnableFastPath(e.provider)
			if fast.Code != lib.Code {
				t.Fatalf("status %d, library %d (%s)", fast.Code, lib.Code, lib.Body)
			}
			hf, hl := fast.Header().Clone(), lib.Header().Clone()
			hf.Del("X-Request-Id")
			hl.Del("X-Request-Id")
			if !reflect.DeepEqual(hf, hl) {
				t.Errorf("headers\n%v\nlibrary\n%v", hf, hl)
			}
			bf, bl := decodeBody(t, fast.Body.String()), decodeBody(t, lib.Body.String())
			if !reflect.DeepEqual(bf, bl) {
				t.Errorf("body\n%v\nlibrary\n%v", bf, bl)
			}
			if fast.Code == http.StatusOK {
				served++
			}
		})
	}
	if served < 4 {
		t.Errorf("%d requests answered 200; the table should exercise the served shape", served)
	}
}

// decodeBody decodes a token endpoint answer, replacing an access token by
// its claims without the per-token jti, iat, nbf and exp (exp − iat kept).
func decodeBody(t *testing.T, body string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("body %q: %v", body, err)
	}
	if at, ok := m["access_token"].(string); ok {
		parts := strings.Split(at, ".")
		payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
		var claims map[string]any
		if err := json.Unmarshal(payload, &claims); err != nil {
			t.Fatal(err)
		}
		claims["ttl"] = claims["exp"].(float64) - claims["iat"].(float64)
		for _, k := range []string{"jti", "iat", "nbf", "exp"} {
			delete(claims, k)
		}
		header, _ := base64.RawURLEncoding.DecodeString(parts[0])
		m["access_token"] = map[string]any{"header": string(header), "claims": claims}
	}
	return m
}
