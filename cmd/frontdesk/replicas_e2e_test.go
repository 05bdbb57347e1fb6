package main

import (
	"fmt"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
	"github.com/frontdeskhq/frontdesk/internal/benchclient"
	"github.com/frontdeskhq/frontdesk/internal/servetest"
	"github.com/frontdeskhq/frontdesk/invites/smtptest"
	"github.com/frontdeskhq/frontdesk/lockout/lockouttest"
)

// roundRobin is a load balancer in front of the replicas: each request goes
// to the next one, so consecutive steps of a flow land on different
// processes. It keeps the Host header, as a load balancer does.
type roundRobin struct {
	backends []*url.URL
	next     atomic.Int64
	mu       sync.Mutex
	hits     map[string][]int // path → replicas that served it, in order
}

func (rr *roundRobin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	i := int(rr.next.Add(1)-1) % len(rr.backends)
	rr.mu.Lock()
	rr.hits[r.URL.Path] = append(rr.hits[r.URL.Path], i)
	rr.mu.Unlock()
	(&httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(rr.backends[i])
		pr.Out.Host = pr.In.Host
	}}).ServeHTTP(w, r)
}

const replicaClientSecret = "replica-test-secret-0123456789"

// TestReplicas runs three `frontdesk serve` processes on one fresh
// PostgreSQL schema and one Redis behind a round-robin balancer, and drives
// them through setup, an authorization-code login that starts on one
// replica and finishes on others, a lock that holds on all, unlock, refresh
// on another replica, logout and refresh-token replay; an invitation sent
// through one replica and accepted through another (mail read from a real
// SMTP server), a burst of mail delivered exactly once by the three outbox
// workers, and a key rotation that every replica publishes, signs with and
// accepts.
func TestReplicas(t *testing.T) {
	bin := frontdeskBinary.Path(t)
	started := time.Now()
	_, dsn := storetest.DSN(t, store.Postgres)
	redis := lockouttest.StartServer(t)
	smtp := smtptest.Start(t, smtptest.Options{})
	dir := t.TempDir()

	lb, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := fmt.Sprintf("http://localhost:%d", lb.Addr().(*net.TCPAddr).Port)
	redirect := "http://127.0.0.1:9/callback"
	cfgFile := filepath.Join(dir, "frontdesk.yaml")
	if err := os.WriteFile(cfgFile, []byte(`clients:
  - id: "ehr"
    secret: "`+replicaClientSecret+`"
    redirect_uris: ["`+redirect+`"]
    grant_types: ["authorization_code", "refresh_token"]
    scopes: ["openid", "offline_access", "email"]
`), 0o600); err != nil {
		t.Fatal(err)
	}
	common := servetest.CleanEnv("FRONTDESK_SERVER_PUBLIC_URL="+base, "FRONTDESK_DATABASE_URL="+dsn,
		"FRONTDESK_REDIS_URL=redis://"+redis.Addr()+"/0",
		// A fresh Redis is a new run: no grace, so the first login is admitted.
		"FRONTDESK_LOCKOUT_REDIS_RECOVERY_GRACE=0s")
	common = append(common, replicaMailEnv(smtp)...)
	if code, out := servetest.RunCLI(t, bin, dir, common, "migrate", "--config", cfgFile); code != 0 {
		t.Fatalf("migrate: %d %s", code, out)
	}
	rr := &roundRobin{hits: map[string][]int{}}
	var procs []*servetest.Process
	for range 3 {
		port := servetest.FreePort(t)
		env := append(append([]string(nil), common...), fmt.Sprintf("FRONTDESK_SERVER_LISTEN=127.0.0.1:%d", port))
		procs = append(procs, servetest.Serve(t, bin, dir, env, "--config", cfgFile))
		rr.backends = append(rr.backends, &url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", port)})
	}
	srv := &http.Server{Handler: rr, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(lb) }()
	t.Cleanup(func() { _ = srv.Close() })
	// Keys are rotated first and checked last (see rotateKeysEarly).
	oldKid := publishedKeyID(t, rr.backends[0], "ES256")
	kid := rotateKeysEarly(t, bin, dir, common, cfgFile, dsn)

	// Only the first replica created the demo practice; its owner finishes
	// setup through the balancer.
	for i, p := range procs[1:] {
		if createdDemo(p) {
			t.Errorf("replica %d created a second demo practice", i+1)
		}
	}
	if !createdDemo(procs[0]) {
		t.Fatalf("the first replica did not create the demo practice\n%s", procs[0].Dump())
	}
	setUpOwnerByMail(t, smtp, base)

	// An authorization-code login: authorize, login page, form post, code
	// and token exchange each on a different replica.
	jar, _ := cookiejar.New(nil)
	app := &http.Client{Jar: localhostJar{jar}, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	w := &benchclient.Client{Opts: &benchclient.Options{Target: base, ClientID: "ehr", ClientSecret: replicaClientSecret,
		Redirect: redirect, Scopes: "openid offline_access email", Password: ownerPassword}, HTTP: app, Practice: "demo",
		Email: "owner@demo.example"}
	tok, err := w.Login(t.Context())
	if err != nil {
		t.Fatalf("code flow across replicas: %v", err)
	}
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token")
	}
	rr.mu.Lock()
	authz, token := rr.hits["/oauth2/authorize"], rr.hits["/oauth2/token"]
	rr.mu.Unlock()
	if len(authz) == 0 || len(token) == 0 || authz[len(authz)-1] == token[len(token)-1] {
		t.Errorf("authorize on %v and token on %v: the flow did not cross replicas", authz, token)
	}

	// Refresh on another replica; the rotated-out token is then refused
	// everywhere.
	first := tok.RefreshToken
	for i := range 2 {
		st, next, err := w.Token(t.Context(), url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}})
		if err != nil {
			t.Fatalf("refresh %d: %d %v", i, st, err)
		}
		tok = next
	}

	// Lockout: three wrong passwords, each on a different replica, lock the
	// account on all of them.
	b := newBrowser(t, base)
	_, page := b.get("/p/demo/login")
	for i := range 3 {
		if status, _, _ := postLogin(b, page, "demo", "owner@demo.example", ownerPassword+" nope"); status != http.StatusUnauthorized {
			t.Fatalf("wrong password %d: %d", i+1, status)
		}
	}
	for i := range 3 {
		status, _, body := postLogin(b, page, "demo", "owner@demo.example", ownerPassword)
		if status != http.StatusUnauthorized || !strings.Contains(body, "administrator") {
			t.Fatalf("right password on a locked account (attempt %d): %d", i+1, status)
		}
	}
	if code, out := servetest.RunCLI(t, bin, dir, common, "admin", "unlock", "--config", cfgFile, "--practice", "demo",
		"--email", "owner@demo.example"); code != 0 {
		t.Fatalf("admin unlock: %d %s", code, out)
	}
	status, _, body := postLogin(b, page, "demo", "owner@demo.example", ownerPassword)
	if status != http.StatusOK || !strings.Contains(body, "You have been signed in") {
		t.Fatalf("login after unlock: %d", status)
	}
	for i := range 3 {
		if status, home := b.get("/p/demo/"); status != http.StatusOK || !strings.Contains(home, "You have been signed in") {
			t.Fatalf("session on replica round %d: %d", i, status)
		}
	}

	// Logout of the app's browser session (on some replica) revokes its
	// refresh tokens on every replica.
	_, home := (&browser{t: t, base: base, client: &http.Client{Jar: localhostJar{jar}, Timeout: 30 * time.Second}}).get("/p/demo/")
	if !strings.Contains(home, "logout") {
		t.Fatalf("app browser is not signed in:\n%s", home)
	}
	ab := &browser{t: t, base: base, client: &http.Client{Jar: localhostJar{jar}, Timeout: 30 * time.Second}}
	if status, _ := ab.submit(home, "/p/demo/logout", nil); status != http.StatusOK {
		t.Fatalf("logout: %d", status)
	}
	for i := range 3 {
		if st, _, err := w.Token(t.Context(), url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}); err == nil || st != http.StatusBadRequest {
			t.Fatalf("refresh after logout (round %d): %d %v", i, st, err)
		}
	}
	if st, _, err := w.Token(t.Context(), url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first}}); err == nil || st != http.StatusBadRequest {
		t.Fatalf("replayed refresh token: %d %v", st, err)
	}
	// An invitation sent through one replica is accepted through another;
	// a burst of mail is delivered once by three racing outbox workers.
	t.Logf("replicaInvitation from %s", time.Since(started).Round(time.Millisecond))
	replicaInvitation(t, rr, smtp, base, b)
	t.Logf("replicaOutboxOnce from %s", time.Since(started).Round(time.Millisecond))
	replicaOutboxOnce(t, smtp, b, dsn, rr.backends)
	// All replicas publish, sign with and accept the rotated key.
	fresh, err := w.Login(t.Context())
	if err != nil {
		t.Fatalf("code flow after the rotation: %v", err)
	}
	t.Logf("replicaKeysEverywhere from %s", time.Since(started).Round(time.Millisecond))
	replicaKeysEverywhere(t, kid, oldKid, strings.TrimPrefix(base, "http://"), rr.backends, fresh)
	t.Logf("keys checked at %s", time.Since(started).Round(time.Millisecond))

	rr.mu.Lock()
	served := map[int]bool{}
	for _, is := range rr.hits {
		for _, i := range is {
			served[i] = true
		}
	}
	rr.mu.Unlock()
	if len(served) != 3 {
		t.Errorf("replicas that served requests: %v", served)
	}
	for _, p := range procs {
		p.Stop()
	}
}
