package main

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/internal/benchclient"
)

// TestLoginPostsToFormAction: the login scenario posts the password form to
// the form's own action, so a peer provider whose login interaction lives
// elsewhere (scripts/bench-peers: /interaction/UID/login) can be driven the
// same way; without an action it posts to /p/SLUG/login as before.
func TestLoginPostsToFormAction(t *testing.T) {
	for _, tc := range []struct {
		name, form, wantPost string
	}{
		{"form action", `<form method="post" action="/interaction/u1/login"><input type="hidden" name="uid" value="u1"><input type="password" name="password"></form>`, "/interaction/u1/login"},
		{"frontdesk's action", `<form method="post" action="/p/demo/login" class="stack"><input type="password" name="password"></form>`, "/p/demo/login"},
		{"no action", `<form method="post"><input type="password" name="password"></form>`, "/p/demo/login"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var posted atomic.Value
			mux := http.NewServeMux()
			mux.HandleFunc("GET /oauth2/authorize", func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, "/login-page?state="+url.QueryEscape(r.URL.Query().Get("state")), http.StatusSeeOther)
			})
			var state string
			mux.HandleFunc("GET /login-page", func(w http.ResponseWriter, r *http.Request) {
				state = r.URL.Query().Get("state")
				_, _ = w.Write([]byte(tc.form))
			})
			mux.HandleFunc("POST /", func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/oauth2/token" {
					_, _ = w.Write([]byte(`{"access_token":"a","refresh_token":"r"}`))
					return
				}
				posted.Store(r.URL.Path)
				if r.PostFormValue("password") != "pw" {
					http.Error(w, "wrong", http.StatusUnauthorized)
					return
				}
				http.Redirect(w, r, "http://127.0.0.1:9/callback?code=c&state="+url.QueryEscape(state), http.StatusSeeOther)
			})
			srv := httptest.NewServer(mux)
			defer srv.Close()
			o := &benchOptions{target: srv.URL, targets: []string{srv.URL}, issuer: srv.URL, clientID: "bench", clientSecret: "s",
				redirect: "http://127.0.0.1:9/callback", password: "pw", scopes: "openid"}
			jar, _ := cookiejar.New(nil)
			w := &benchWorker{o: o, Client: benchclient.Client{Opts: o.clientOptions(), Practice: "demo", Email: "a@b.example",
				HTTP: &http.Client{Jar: jar, Timeout: 10 * time.Second,
					CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}}
			tok, err := w.Login(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := posted.Load().(string); got != tc.wantPost {
				t.Fatalf("form posted to %q, want %q", got, tc.wantPost)
			}
			if tok.RefreshToken != "r" {
				t.Fatalf("tokens %+v", tok)
			}
		})
	}
}
