package main

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/internal/benchclient"
	"github.com/frontdeskhq/frontdesk/internal/servetest"
	"github.com/frontdeskhq/frontdesk/internal/testwait"
)

// TestFaultPostgresRestart stops a (private) PostgreSQL under a running
// frontdesk and starts it again. While it is down every request that needs
// the database fails at once with a clear 5xx, nothing is half-written (a
// refresh token is neither rotated nor revoked, an invitation leaves no row
// and no mail), the process stays up and /readyz says why; when the database
// returns, the same process serves again without a restart.
func TestFaultPostgresRestart(t *testing.T) {
	bin := frontdeskBinary.Path(t)
	pg := startPrivatePostgres(t)
	dir := t.TempDir()
	cfgFile := writeClientConfig(t, dir)
	port := servetest.FreePort(t)
	base := fmt.Sprintf("http://localhost:%d", port)
	backend := &url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", port)}
	env := servetest.CleanEnv(fmt.Sprintf("FRONTDESK_SERVER_LISTEN=127.0.0.1:%d", port), "FRONTDESK_SERVER_PUBLIC_URL="+base,
		"FRONTDESK_DATABASE_URL="+pg.URL(), "FRONTDESK_MAIL_POLL_INTERVAL=100ms")
	p := servetest.Serve(t, bin, dir, env, "--config", cfgFile)

	owner, page := setUpOwner(t, p, base)
	if status, _, _ := postLogin(owner, page, "demo", "owner@demo.example", ownerPassword); status != http.StatusOK {
		t.Fatalf("login: %d", status)
	}
	_, invitePage := owner.get("/p/demo/admin/invite")
	if !strings.Contains(invitePage, `name="email"`) {
		t.Fatalf("invite page:\n%s", invitePage)
	}
	app := appWorker(base)
	tok, err := app.Login(t.Context())
	if err != nil {
		t.Fatalf("code flow: %v", err)
	}
	other := newBrowser(t, base)
	_, loginPage := other.get("/p/demo/login")

	pg.Stop()
	down := time.Now()

	// Liveness stays green, readiness says what is wrong.
	if st, body := plainGet(t, backend.String()+"/healthz"); st != http.StatusOK {
		t.Errorf("/healthz with the database down: %d %s", st, body)
	}
	if st, body := plainGet(t, backend.String()+"/readyz"); st != http.StatusServiceUnavailable || !strings.Contains(body, "database unreachable") {
		t.Errorf("/readyz with the database down: %d %q", st, body)
	}
	// Each kind of request fails cleanly: a 5xx with a message saying to try
	// again, never a hang, a dropped connection or a misleading 4xx.
	checks := []struct {
		name string
		do   func() (int, string)
	}{
		{"login form", func() (int, string) {
			st, _, body := postLogin(other, loginPage, "demo", "owner@demo.example", ownerPassword)
			return st, body
		}},
		{"login page", func() (int, string) { return other.get("/p/demo/login") }},
		{"signed-in home", func() (int, string) { return owner.get("/p/demo/") }},
		{"invitation", func() (int, string) {
			return owner.submit(invitePage, "/p/demo/admin/invite", url.Values{"email": {"pg-outage@example.org"}, "role": {"practitioner"}})
		}},
		{"refresh grant", func() (int, string) {
			st, hdr, body := postAsClient(t, base+"/oauth2/token",
				url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}})
			if hdr.Get("Retry-After") == "" {
				t.Errorf("refresh grant with the database down: %d without Retry-After", st)
			}
			return st, body
		}},
		// A good access token is not called invalid because its liveness
		// cannot be read: userinfo and introspection answer 503 too.
		{"userinfo", func() (int, string) {
			return userinfo(t, backend, strings.TrimPrefix(base, "http://"), tok.AccessToken)
		}},
		{"introspection", func() (int, string) {
			st, _, body := postAsClient(t, base+"/oauth2/introspect", url.Values{"token": {tok.AccessToken}})
			return st, body
		}},
	}
	for _, c := range checks {
		st, body := c.do()
		t.Logf("%s with the database down: %d", c.name, st)
		if st < 500 || st > 599 {
			t.Errorf("%s with the database down: %d, want 5xx\n%.400s", c.name, st, body)
		} else if st != http.StatusServiceUnavailable {
			t.Errorf("%s with the database down: %d, want 503 (unavailable, retry later)\n%.400s", c.name, st, body)
		} else if !strings.Contains(body, "try again") {
			t.Errorf("%s with the database down: %d without a clear message:\n%.600s", c.name, st, body)
		}
	}
	// The authorization endpoint sends the person back to the app with
	// RFC 6749's temporarily_unavailable, not server_error.
	{
		w := appWorker(base)
		verifier := benchclient.RandomString()
		sum := sha256.Sum256([]byte(verifier))
		q := url.Values{"client_id": {"ehr"}, "redirect_uri": {faultRedirect}, "response_type": {"code"},
			"scope": {"openid"}, "state": {"outage"}, "practice": {"demo"},
			"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
		st, loc, err := w.Get(t.Context(), "/oauth2/authorize?"+q.Encode())
		u, _ := url.Parse(loc)
		if err != nil || st/100 != 3 || u == nil || !strings.HasPrefix(loc, faultRedirect) ||
			u.Query().Get("error") != "temporarily_unavailable" || u.Query().Get("state") != "outage" {
			t.Errorf("authorization request with the database down: %d %q %v; want a redirect to the app with "+
				"error=temporarily_unavailable", st, loc, err)
		}
	}
	// The mail outbox worker notices and keeps retrying.
	testwait.For(t, 15*time.Second, "the outbox worker to report the outage", func() bool {
		return p.Logged("mail outbox unavailable; will retry") != nil
	})
	if p.Exited() {
		t.Fatalf("frontdesk exited while the database was down\n%s", p.Dump())
	}

	pg.Start()
	t.Logf("database was down for %s", time.Since(down).Round(time.Millisecond))
	testwait.For(t, 30*time.Second, "/readyz to recover", func() bool {
		st, _ := plainGet(t, backend.String()+"/readyz")
		return st == http.StatusOK
	})

	// The same process serves again; nothing was half-written while it was down.
	if n := pg.Count(`SELECT count(*) FROM invitations WHERE email = $1`, "pg-outage@example.org"); n != 0 {
		t.Errorf("%d invitation rows written during the outage", n)
	}
	if n := pg.Count(`SELECT count(*) FROM mail_outbox WHERE recipient = $1`, "pg-outage@example.org"); n != 0 {
		t.Errorf("%d outbox rows written during the outage", n)
	}
	// The refresh token tried during the outage was not used up or revoked:
	// it works exactly once now.
	st, next, err := app.Token(t.Context(), url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}})
	if err != nil {
		t.Fatalf("refresh after the database returned: %d %v", st, err)
	}
	if st, _, err := app.Token(t.Context(), url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}); err == nil || st != http.StatusBadRequest {
		t.Errorf("replayed refresh token after recovery: %d %v", st, err)
	}
	_ = next
	if st, home := owner.get("/p/demo/"); st != http.StatusOK || !strings.Contains(home, "You have been signed in") {
		t.Errorf("the owner's session after recovery: %d", st)
	}
	if st, _, body := postLogin(other, loginPage, "demo", "owner@demo.example", ownerPassword); st != http.StatusOK || !strings.Contains(body, "You have been signed in") {
		t.Errorf("login after recovery: %d", st)
	}
	_, invitePage = owner.get("/p/demo/admin/invite")
	if st, _ := owner.submit(invitePage, "/p/demo/admin/invite", url.Values{"email": {"pg-outage@example.org"}, "role": {"practitioner"}}); st != http.StatusOK {
		t.Errorf("invitation after recovery: %d", st)
	}
	if n := pg.Count(`SELECT count(*) FROM invitations WHERE email = $1`, "pg-outage@example.org"); n != 1 {
		t.Errorf("invitations after recovery: %d, want 1", n)
	}
	// The same outbox worker delivers it.
	testwait.For(t, 15*time.Second, "the invitation mail", func() bool {
		return pg.Count(`SELECT count(*) FROM mail_outbox WHERE recipient = $1 AND status = 'sent'`, "pg-outage@example.org") == 1
	})

	if p.Logged("panic serving request") != nil {
		t.Errorf("a request panicked\n%s", p.Dump())
	}
	for _, msg := range []string{"readiness check failed", "request failed"} {
		if p.Logged(msg) == nil {
			t.Errorf("no %q log line for the operator", msg)
		}
	}
	p.Stop()
}

// postAsClient posts form to an OAuth endpoint as the configured client ehr
// (client_secret_basic) and returns the status, headers and body.
func postAsClient(t *testing.T, endpoint string, form url.Values) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("ehr", replicaClientSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return resp.StatusCode, resp.Header, string(body)
}
