package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
	"github.com/frontdeskhq/frontdesk/internal/benchclient"
	"github.com/frontdeskhq/frontdesk/internal/servetest"
	"github.com/frontdeskhq/frontdesk/internal/testwait"
	"github.com/frontdeskhq/frontdesk/lockout/lockouttest"
)

// codeFlow is one authorization-code login driven step by step, so a test can
// act between the steps.
type codeFlow struct {
	w               *benchclient.Client
	verifier, state string
}

// begin sends the browser to /oauth2/authorize and follows the redirects to
// the practice's login page, which it returns.
func (f *codeFlow) begin(ctx context.Context) (string, error) {
	f.verifier, f.state = benchclient.RandomString(), benchclient.RandomString()
	sum := sha256.Sum256([]byte(f.verifier))
	q := url.Values{"client_id": {f.w.Opts.ClientID}, "redirect_uri": {f.w.Opts.Redirect}, "response_type": {"code"},
		"scope": {f.w.Opts.Scopes}, "state": {f.state}, "nonce": {benchclient.RandomString()}, "practice": {f.w.Practice},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	st, body, err := f.w.Get(ctx, "/oauth2/authorize?"+q.Encode())
	for range 8 {
		if err != nil {
			return "", err
		}
		if st == http.StatusOK && strings.Contains(body, `name="password"`) {
			return body, nil
		}
		if st/100 != 3 {
			return "", fmt.Errorf("authorize stopped at %d: %.300s", st, body)
		}
		st, body, err = f.w.Get(ctx, body)
	}
	return "", fmt.Errorf("authorize: too many redirects")
}

// submit posts the login form of page and returns the status and the
// Location (for a redirect) or body.
func (f *codeFlow) submit(ctx context.Context, page string) (int, string, error) {
	form := benchclient.HiddenFields(page)
	form.Set("email", f.w.Email)
	form.Set("password", f.w.Opts.Password)
	return f.w.Post(ctx, "/p/"+f.w.Practice+"/login", form, true)
}

// finish follows the redirect after a successful login form to the app's
// redirect URI and exchanges the code.
func (f *codeFlow) finish(ctx context.Context, loc string) (benchclient.Tokens, error) {
	for range 8 {
		if strings.HasPrefix(loc, f.w.Opts.Redirect) {
			u, err := url.Parse(loc)
			if err != nil {
				return benchclient.Tokens{}, err
			}
			if u.Query().Get("state") != f.state || u.Query().Get("code") == "" {
				return benchclient.Tokens{}, fmt.Errorf("authorization response without code: %s", loc)
			}
			st, tok, err := f.w.Token(ctx, url.Values{"grant_type": {"authorization_code"}, "code": {u.Query().Get("code")},
				"redirect_uri": {f.w.Opts.Redirect}, "code_verifier": {f.verifier}})
			if err != nil {
				return tok, fmt.Errorf("code exchange (%d): %w", st, err)
			}
			return tok, nil
		}
		st, next, err := f.w.Get(ctx, loc)
		if err != nil {
			return benchclient.Tokens{}, err
		}
		if st/100 != 3 {
			return benchclient.Tokens{}, fmt.Errorf("redirect chain stopped at %d: %.300s", st, next)
		}
		loc = next
	}
	return benchclient.Tokens{}, fmt.Errorf("too many redirects")
}

// TestFaultReplicaKilledMidLogin kills (SIGKILL) the replica that is
// processing a person's login form, behind a balancer with passive health
// checks. The person's browser gets a 502, resubmits the same form, lands on
// another replica and is logged in to the app: everything the login needs
// (the auth request, its browser binding, the CSRF pair, the lockout
// counters) lives in PostgreSQL and Redis, not in the dead process.
func TestFaultReplicaKilledMidLogin(t *testing.T) {
	bin := frontdeskBinary.Path(t)
	_, dsn := storetest.DSN(t, store.Postgres)
	redis := lockouttest.StartServer(t)
	dir := t.TempDir()
	cfgFile := writeClientConfig(t, dir)
	lb, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := fmt.Sprintf("http://localhost:%d", lb.Addr().(*net.TCPAddr).Port)
	common := servetest.CleanEnv("FRONTDESK_SERVER_PUBLIC_URL="+base, "FRONTDESK_DATABASE_URL="+dsn,
		"FRONTDESK_REDIS_URL=redis://"+redis.Addr()+"/0",
		// A fresh Redis is a new run: no grace, so the first login is admitted.
		"FRONTDESK_LOCKOUT_REDIS_RECOVERY_GRACE=0s")
	if code, out := servetest.RunCLI(t, bin, dir, common, "migrate", "--config", cfgFile); code != 0 {
		t.Fatalf("migrate: %d %s", code, out)
	}
	rs := startReplicas(t, 3, bin, dir, cfgFile, common)
	f := &failover{backends: rs.backends, down: map[int]bool{}}
	var (
		killOnce sync.Once
		armed    = make(chan struct{})
		killed   = make(chan struct{})
	)
	kill := func() {
		killOnce.Do(func() {
			_ = rs.procs[0].Signal(os.Kill)
			close(killed)
		})
	}
	// The login form post to replica 0 kills it as soon as the request has
	// reached it: the replica dies while it is evaluating the password.
	lbHandler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := f.pick()
		select {
		case <-armed:
		default:
			f.ServeHTTP(w, r)
			return
		}
		if i != 0 || r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/login") {
			f.ServeHTTP(w, r)
			return
		}
		f.mu.Lock()
		f.served = append(f.served, i)
		f.mu.Unlock()
		(&httputil.ReverseProxy{
			Rewrite: func(pr *httputil.ProxyRequest) {
				pr.SetURL(f.backends[0])
				pr.Out.Host = pr.In.Host
				pr.Out = pr.Out.WithContext(httptrace.WithClientTrace(pr.Out.Context(),
					&httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) { kill() }}))
			},
			ErrorHandler: func(w http.ResponseWriter, _ *http.Request, _ error) {
				f.mu.Lock()
				f.down[0] = true
				f.mu.Unlock()
				http.Error(w, "replica unreachable", http.StatusBadGateway)
			},
		}).ServeHTTP(w, r)
	})
	serveBalancer(t, lb, lbHandler)
	setUpOwner(t, rs.procs[0], base)

	ctx := withTimeout(t, 45*time.Second)
	flow := &codeFlow{w: appWorker(base)}
	page, err := flow.begin(ctx)
	if err != nil {
		t.Fatalf("authorize: %v", err)
	}
	close(armed)
	st, body, err := flow.submit(ctx, page)
	if err != nil {
		t.Fatalf("login form: %v", err)
	}
	select {
	case <-killed:
	default:
		t.Fatalf("replica 0 was not killed; the form answered %d", st)
	}
	select {
	case <-rs.procs[0].Done():
	case <-testwait.Guard(t): // only a hang guard: it waits for the process to exit
		t.Fatal("replica 0 did not die")
	}
	if st != http.StatusBadGateway {
		t.Fatalf("form post to the killed replica: %d, want the balancer's 502\n%.300s", st, body)
	}

	// The person resubmits the same form; the balancer sends it elsewhere.
	st, loc, err := flow.submit(ctx, page)
	if err != nil {
		t.Fatalf("resubmitted form: %v", err)
	}
	var tok benchclient.Tokens
	switch {
	case st == http.StatusSeeOther:
		tok, err = flow.finish(ctx, loc)
		if err != nil {
			t.Fatalf("after the resubmitted form: %v", err)
		}
	case st == http.StatusBadRequest && strings.Contains(loc, "start again"):
		// The killed replica had already completed the auth request before
		// it died: the page tells the person to start again from the app,
		// which then works.
		t.Log("the killed replica had completed the auth request; starting again from the app")
		if tok, err = flow.w.Login(ctx); err != nil {
			t.Fatalf("starting again from the app: %v", err)
		}
	default:
		t.Fatalf("resubmitted form on another replica: %d\n%.600s", st, loc)
	}
	f.mu.Lock()
	served := append([]int(nil), f.served...)
	f.mu.Unlock()
	if served[len(served)-1] == 0 {
		t.Errorf("the balancer still sends to the killed replica: %v", served)
	}
	// The tokens work on both surviving replicas, and the account was not
	// locked or counted against by the lost attempt.
	for i, b := range rs.backends[1:] {
		if st, body := userinfo(t, b, strings.TrimPrefix(base, "http://"), tok.AccessToken); st != http.StatusOK ||
			!strings.Contains(body, "owner@demo.example") {
			t.Errorf("userinfo on replica %d: %d %s", i+1, st, body)
		}
	}
	if _, _, err := flow.w.Token(ctx, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}); err != nil {
		t.Errorf("refresh after the failover: %v", err)
	}
	b := newBrowser(t, base)
	_, lp := b.get("/p/demo/login")
	if st, _, body := postLogin(b, lp, "demo", "owner@demo.example", ownerPassword); st != http.StatusOK || !strings.Contains(body, "You have been signed in") {
		t.Errorf("a fresh login after the failover: %d", st)
	}
	for _, p := range rs.procs[1:] {
		if p.Logged("panic serving request") != nil {
			t.Errorf("a surviving replica panicked\n%s", p.Dump())
		}
		p.Stop()
	}
}
