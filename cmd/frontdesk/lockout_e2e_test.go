package main

// End-to-end lockout: the real binary locks an account after three wrong
// passwords, the operator unlocks it with `frontdesk admin unlock`, and one
// address spraying guesses gets 429 with Retry-After — on the embedded
// default and on PostgreSQL with a (private) Redis.

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
	"github.com/frontdeskhq/frontdesk/internal/servetest"
	"github.com/frontdeskhq/frontdesk/lockout/lockouttest"
)

// postLogin posts the login form of page and returns the response status,
// its Retry-After header and the body.
func postLogin(b *browser, page, slug, email, pw string) (int, string, string) {
	b.t.Helper()
	form := url.Values{}
	for _, m := range hiddenInput.FindAllStringSubmatch(page, -1) {
		form.Set(m[1], htmlUnescape(m[2]))
	}
	form.Set("email", email)
	form.Set("password", pw)
	req, _ := http.NewRequest("POST", b.base+"/p/"+slug+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.base)
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Retry-After"), string(body)
}

// setUpOwner completes the demo owner's setup through the logged link and
// logs out, returning a browser on the login page.
func setUpOwner(t *testing.T, p *servetest.Process, base string) (*browser, string) {
	t.Helper()
	created := p.Logged("created the demo practice; open the setup link to choose the owner's password")
	if created == nil {
		t.Fatalf("no setup link logged\n%s", p.Dump())
	}
	b := newBrowser(t, base)
	status, page := b.get(created["setup_url"].(string))
	if status != 200 {
		t.Fatalf("setup page: %d", status)
	}
	status, page = b.submit(page, "/p/demo/setup", url.Values{"new_password": {ownerPassword}, "confirm_password": {ownerPassword}})
	if status != 200 || !strings.Contains(page, "You have been signed in") {
		t.Fatalf("after setup: %d\n%s", status, page)
	}
	status, page = b.submit(page, "/p/demo/logout", nil)
	if status != 200 {
		t.Fatalf("logout: %d", status)
	}
	return b, page
}

func lockoutScenario(t *testing.T, bin, dir, base string, env []string, p *servetest.Process) {
	b, page := setUpOwner(t, p, base)
	for i := range 3 {
		status, _, _ := postLogin(b, page, "demo", "Owner@Demo.Example", ownerPassword+" nope")
		if status != http.StatusUnauthorized {
			t.Fatalf("wrong password %d: %d", i+1, status)
		}
	}
	// Locked: the right password gets the same answer as a wrong one.
	status, _, body := postLogin(b, page, "demo", "owner@demo.example", ownerPassword)
	if status != http.StatusUnauthorized || !strings.Contains(body, "administrator") {
		t.Fatalf("right password on a locked account: %d\n%s", status, body)
	}

	if code, out := servetest.RunCLI(t, bin, dir, env, "admin", "unlock", "--practice", "demo"); code != 2 || !strings.Contains(out, "--email is required") {
		t.Errorf("admin unlock without --email: %d %s", code, out)
	}
	if code, out := servetest.RunCLI(t, bin, dir, env, "admin", "unlock", "--practice", "demo", "--email", "nobody@demo.example"); code != 1 || !strings.Contains(out, "no member") {
		t.Errorf("admin unlock of an unknown member: %d %s", code, out)
	}
	if code, out := servetest.RunCLI(t, bin, dir, env, "admin", "unlock", "--practice", "demo", "--email", "OWNER@demo.example"); code != 0 || !strings.Contains(out, "Unlocked") {
		t.Fatalf("admin unlock: %d %s", code, out)
	}
	status, _, body = postLogin(b, page, "demo", "owner@demo.example", ownerPassword)
	if status != 200 || !strings.Contains(body, "You have been signed in") {
		t.Fatalf("login after unlock: %d\n%s", status, body)
	}
}

func sprayScenario(t *testing.T, base string) {
	b := newBrowser(t, base)
	_, page := b.get("/p/demo/login")
	for i := range 2 {
		if status, _, _ := postLogin(b, page, "demo", fmt.Sprintf("guess%d@example.org", i), "a wrong password"); status != http.StatusUnauthorized {
			t.Fatalf("spray %d: %d", i, status)
		}
	}
	status, retry, body := postLogin(b, page, "demo", "owner@demo.example", ownerPassword)
	secs, err := strconv.Atoi(retry)
	if status != http.StatusTooManyRequests || err != nil || secs < 1 || secs > 900 || !strings.Contains(body, "Too many failed logins") {
		t.Fatalf("after the address limit: %d Retry-After %q\n%s", status, retry, body)
	}
}

func TestEndToEndLockoutEmbedded(t *testing.T) {
	bin := frontdeskBinary.Path(t)
	dir := t.TempDir()
	port := servetest.FreePort(t)
	base := fmt.Sprintf("http://localhost:%d", port)
	env := servetest.CleanEnv("FRONTDESK_SERVER_LISTEN="+fmt.Sprintf("127.0.0.1:%d", port), "FRONTDESK_SERVER_PUBLIC_URL="+base)
	p := servetest.Serve(t, bin, dir, env)
	lockoutScenario(t, bin, dir, base, env, p)

	// The lock and unlock mails were written.
	var subjects []string
	emls, _ := filepath.Glob(filepath.Join(dir, "data", "mail", "*.eml"))
	for _, f := range emls {
		raw, _ := os.ReadFile(f)
		for _, line := range strings.Split(string(raw), "\n") {
			if strings.HasPrefix(line, "Subject: ") {
				subjects = append(subjects, strings.TrimSpace(strings.TrimPrefix(line, "Subject: ")))
			}
		}
	}
	all := strings.Join(subjects, "|")
	if !strings.Contains(all, "Your Demo Practice account was locked") || !strings.Contains(all, "Your Demo Practice account was unlocked") {
		t.Errorf("mail subjects: %q", subjects)
	}
	p.Stop()

	// Spraying, with a small address limit, on a fresh database (the
	// address's failures above are still counted in this one).
	p = servetest.Serve(t, bin, t.TempDir(), append(env, "FRONTDESK_LOCKOUT_ADDRESS_LIMIT=2"))
	sprayScenario(t, base)
	p.Stop()
}

func TestEndToEndLockoutPostgresRedis(t *testing.T) {
	bin := frontdeskBinary.Path(t)
	_, dsn := storetest.DSN(t, store.Postgres)
	srv := lockouttest.StartServer(t)
	dir := t.TempDir()
	port := servetest.FreePort(t)
	base := fmt.Sprintf("http://localhost:%d", port)
	env := servetest.CleanEnv("FRONTDESK_SERVER_LISTEN="+fmt.Sprintf("127.0.0.1:%d", port), "FRONTDESK_SERVER_PUBLIC_URL="+base,
		"FRONTDESK_DATABASE_URL="+dsn, "FRONTDESK_REDIS_URL=redis://"+srv.Addr()+"/0", "FRONTDESK_LOCKOUT_ADDRESS_LIMIT=6",
		// A fresh Redis is a new run: no grace, so the first login is admitted.
		"FRONTDESK_LOCKOUT_REDIS_RECOVERY_GRACE=0s")
	p := servetest.Serve(t, bin, dir, env)
	lockoutScenario(t, bin, dir, base, env, p)
	// 4 failures so far from 127.0.0.1; two more reach the limit of 6.
	sprayScenario(t, base)

	// Redis down: logins are refused (503), never evaluated uncounted.
	srv.Stop()
	b := newBrowser(t, base)
	_, page := b.get("/p/demo/login")
	if status, retry, _ := postLogin(b, page, "demo", "owner@demo.example", ownerPassword); status != http.StatusServiceUnavailable || retry == "" {
		t.Errorf("login with Redis down: %d Retry-After %q", status, retry)
	}
	p.Stop()
}
