package oidc_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/store"
)

// tokenRequest posts a form to the token endpoint through the full handler
// (middleware included), without the network.
func (e *env) tokenRequest(b *testing.B, form url.Values) string {
	return e.tokenRequestAs(b, "ehr", form)
}

// tokenRequestAs is tokenRequest for another confidential client.
func (e *env) tokenRequestAs(b *testing.B, clientID string, form url.Values) string {
	req := httptest.NewRequest(http.MethodPost, e.srv.URL+"/oauth2/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(clientID, ehrSecret)
	w := httptest.NewRecorder()
	e.handler.ServeHTTP(w, req)
	if w.Code != http.StatusOK {
		b.Fatalf("token endpoint: %d %s", w.Code, w.Body)
	}
	return w.Body.String()
}

// BenchmarkClientCredentials measures client-credentials grants (an ES256
// at+jwt access token each) at 8 concurrent requests on SQLite.
func BenchmarkClientCredentials(b *testing.B) {
	e := newEnv(b, store.SQLite)
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"schedule.read"}}
	b.SetParallelism(4) // 2 cores × 4 = 8 concurrent requests
	b.ResetTimer()
	defer reportCPU(b)()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			e.tokenRequest(b, form)
		}
	})
}

// BenchmarkRefreshRotation measures refresh grants with rotation (a use
// mark, a new hashed token, roles re-read, an ES256 access token and an
// RS256 ID token, the defaults) at 8 concurrent requests, each rotating its
// own family.
func BenchmarkRefreshRotation(b *testing.B) {
	for _, engine := range []store.Engine{store.SQLite, store.Postgres} {
		b.Run(string(engine), func(b *testing.B) {
			e := newEnv(b, engine)
			ctx := context.Background()
			p, _ := e.store.PracticeBySlug(ctx, "sunrise")
			var seq atomic.Int64
			seed := func() string {
				n := seq.Add(1)
				tok := fmt.Sprintf("bench-refresh-%d", n)
				now := time.Now()
				err := e.store.CreateRefreshToken(ctx, store.RefreshToken{ID: fmt.Sprintf("rt-%d", n), FamilyID: fmt.Sprintf("fam-%d", n),
					ClientID: "ehr", PracticeID: p.ID, MemberID: e.ownerID, Scopes: []string{"openid", "offline_access"},
					AMR: []string{"pwd"}, AuthTime: now, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}, oidcHash(tok))
				if err != nil {
					b.Fatal(err)
				}
				return tok
			}
			b.SetParallelism(4)
			b.ResetTimer()
			defer reportCPU(b)()
			b.RunParallel(func(pb *testing.PB) {
				rt := seed()
				for pb.Next() {
					body := e.tokenRequest(b, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
					i := strings.Index(body, `"refresh_token":"`)
					rt = body[i+len(`"refresh_token":"`):]
					rt = rt[:strings.IndexByte(rt, '"')]
				}
			})
		})
	}
}

// BenchmarkRefreshIDTokenAlg measures the refresh grant (SQLite, 8
// concurrent requests) for a client whose ID tokens are RS256 (the default
// since issue 19) and one whose ID tokens are ES256, access tokens ES256
// for both, in the same run: what the RS256 default costs on the refresh
// grant's hot path.
func BenchmarkRefreshIDTokenAlg(b *testing.B) {
	for _, client := range []struct{ name, id string }{{"RS256", "ehr"}, {"ES256", "ecdsa"}} {
		b.Run(client.name, func(b *testing.B) {
			e := newEnv(b, store.SQLite)
			ctx := context.Background()
			p, _ := e.store.PracticeBySlug(ctx, "sunrise")
			var seq atomic.Int64
			seed := func() string {
				n := seq.Add(1)
				tok := fmt.Sprintf("bench-refresh-%d", n)
				now := time.Now()
				err := e.store.CreateRefreshToken(ctx, store.RefreshToken{ID: fmt.Sprintf("rt-%d", n), FamilyID: fmt.Sprintf("fam-%d", n),
					ClientID: client.id, PracticeID: p.ID, MemberID: e.ownerID, Scopes: []string{"openid", "offline_access"},
					AMR: []string{"pwd"}, AuthTime: now, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}, oidcHash(tok))
				if err != nil {
					b.Fatal(err)
				}
				return tok
			}
			b.SetParallelism(4)
			b.ResetTimer()
			defer reportCPU(b)()
			b.RunParallel(func(pb *testing.PB) {
				rt := seed()
				for pb.Next() {
					body := e.tokenRequestAs(b, client.id, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
					i := strings.Index(body, `"refresh_token":"`)
					rt = body[i+len(`"refresh_token":"`):]
					rt = rt[:strings.IndexByte(rt, '"')]
				}
			})
		})
	}
}

func oidcHash(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}
