package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/frontdeskhq/frontdesk/internal/benchclient"
)

func TestBenchRefusesNonLoopbackTargets(t *testing.T) {
	tests := []struct {
		target string
		ok     bool
	}{
		{"http://127.0.0.1:8080", true},
		{"http://localhost:8080", true},
		{"https://[::1]:8443", true},
		{"http://127.1.2.3:8080", true},
		{"http://10.0.0.5:8080", false},
		{"https://login.example.com", false},
		{"http://localhost.example.com", false},
		{"http://0.0.0.0:8080", false},
		{"ftp://127.0.0.1", false},
		{"127.0.0.1:8080", false},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			if err := checkLoopback(tt.target); (err == nil) != tt.ok {
				t.Fatalf("checkLoopback(%q) = %v, want ok=%v", tt.target, err, tt.ok)
			}
		})
	}
}

func TestBenchCommandLine(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no scenario", nil, "--scenario must be one of"},
		{"unknown scenario", []string{"--scenario", "dos"}, "--scenario must be one of"},
		{"remote target", []string{"--scenario", "refresh", "--target", "https://login.example.com"}, "not a loopback address"},
		{"remote setup link", []string{"--scenario", "login", "--setup-url", "https://login.example.com/p/x/setup?token=t"}, "not a loopback address"},
		{"zero requests", []string{"--scenario", "verify", "--n", "0"}, "--n must be at least 1"},
		{"unknown flag", []string{"--scenario", "verify", "--requests", "5"}, "flag provided but not defined: -requests"},
		{"a subcommand as with frontdesk", []string{"bench", "--scenario", "verify"}, `unexpected argument "bench"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := run(context.Background(), tt.args, &out, &errb, nil); code != exitUsage || !strings.Contains(errb.String(), tt.want) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", code, errb.String(), exitUsage, tt.want)
			}
		})
	}
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"-h"}, &out, &errb, nil); code != 0 || !strings.Contains(errb.String(), "-scenario") {
		t.Fatalf("-h: exit %d, stderr %q; want 0 and the flags", code, errb.String())
	}
}

// tokenConn keeps one connection across requests, sends the client's
// credentials and the form, reports error answers with their status, and
// dials again when the server closes the connection.
func TestTokenConn(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// RFC 6749 2.3.1: both halves are form-encoded before Basic.
		id, secret, ok := r.BasicAuth()
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
		if r.Method != http.MethodPost || r.URL.Path != "/base/oauth2/token" || !ok || id != "app one" || secret != "s:e/cret" {
			http.Error(w, `{"error":"invalid_client"}`, http.StatusUnauthorized)
			return
		}
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		switch r.PostForm.Get("grant_type") {
		case "client_credentials":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"access_token":"at-`+r.PostForm.Get("n")+`"}`)
		case "close":
			w.Header().Set("Connection", "close")
			fmt.Fprint(w, `{"access_token":"last"}`)
		default:
			http.Error(w, `{"error":"unsupported_grant_type"}`, http.StatusBadRequest)
		}
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()

	if c := newTokenConn("https://127.0.0.1:1", "a", "b"); c != nil {
		t.Fatal("tokenConn for an https target; want nil (the ordinary client serves it)")
	}
	c := newTokenConn(srv.URL+"/base", "app one", "s:e/cret")
	defer c.close()
	ctx := t.Context()
	steps := []struct {
		form      string
		status    int
		token     string
		wantConns int32
	}{
		{"grant_type=client_credentials&n=1", 200, "at-1", 1},
		{"grant_type=client_credentials&n=2", 200, "at-2", 1},
		{"grant_type=password", 400, "", 1},
		{"grant_type=close", 200, "last", 1},
		{"grant_type=client_credentials&n=3", 200, "at-3", 2},
	}
	for _, s := range steps {
		st, body, err := c.Post(ctx, s.form)
		if err != nil {
			t.Fatalf("%s: %v", s.form, err)
		}
		code, tok, err := benchclient.TokenAnswer(st, body)
		if code != s.status || tok.AccessToken != s.token || (err == nil) != (s.status == 200) {
			t.Fatalf("%s: %d %q %v; want %d %q", s.form, code, tok.AccessToken, err, s.status, s.token)
		}
		if n := conns.Load(); n != s.wantConns {
			t.Fatalf("after %s: %d connections, want %d", s.form, n, s.wantConns)
		}
	}
	bad := newTokenConn(srv.URL+"/base", "app one", "wrong")
	defer bad.close()
	if st, _, _ := bad.Post(ctx, "grant_type=client_credentials"); st != http.StatusUnauthorized {
		t.Fatalf("wrong secret: %d", st)
	}
}
