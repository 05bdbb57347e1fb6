package main

// End-to-end tests: build the real binary, start it as an operator would, and
// drive it over HTTP like a browser.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
	"github.com/frontdeskhq/frontdesk/internal/servetest"
	"github.com/frontdeskhq/frontdesk/internal/testwait"
)

const ownerPassword = "seven lanterns over a quiet harbour"

// frontdeskBinary is cmd/frontdesk compiled once for the whole test run (the
// end-to-end tests all run the same binary; linking it once per test cost
// seconds each), with the Dockerfile's flags so the tests run the image's
// binary (TestDeploymentRecipe keeps the two in step).
var frontdeskBinary = &servetest.Binary{Pkg: ".", Flags: []string{"-trimpath", "-ldflags", "-s -w"}}

// TestMain removes the binary the end-to-end tests built.
func TestMain(m *testing.M) {
	code := m.Run()
	frontdeskBinary.Remove()
	os.Exit(code)
}

// localhostJar behaves like a browser's cookie store: http://localhost is a
// secure context, so Secure (and __Host-) cookies are kept and sent there.
type localhostJar struct{ jar *cookiejar.Jar }

func (j localhostJar) secure(u *url.URL) *url.URL {
	if u.Scheme == "http" && (u.Hostname() == "localhost" || u.Hostname() == "127.0.0.1") {
		c := *u
		c.Scheme = "https"
		return &c
	}
	return u
}

func (j localhostJar) SetCookies(u *url.URL, cookies []*http.Cookie) {
	j.jar.SetCookies(j.secure(u), cookies)
}

func (j localhostJar) Cookies(u *url.URL) []*http.Cookie { return j.jar.Cookies(j.secure(u)) }

// browser is an HTTP client with a cookie jar that posts forms the way a
// browser does (same-origin Origin header, every hidden input sent back).
type browser struct {
	t      *testing.T
	base   string
	client *http.Client
}

func newBrowser(t *testing.T, base string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: base, client: &http.Client{Jar: localhostJar{jar}, Timeout: 30 * time.Second}}
}

func (b *browser) get(u string) (int, string) {
	b.t.Helper()
	if strings.HasPrefix(u, "/") {
		u = b.base + u
	}
	resp, err := b.client.Get(u)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)"`)

// submit posts the page's form with its hidden inputs plus fields.
func (b *browser) submit(page, action string, fields url.Values) (int, string) {
	b.t.Helper()
	form := url.Values{}
	for _, m := range hiddenInput.FindAllStringSubmatch(page, -1) {
		form.Set(m[1], htmlUnescape(m[2]))
	}
	for k, v := range fields {
		form[k] = v
	}
	req, _ := http.NewRequest("POST", b.base+action, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.base)
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">", "&#34;", `"`, "&#39;", "'").Replace(s)
}

func TestEndToEndEmbeddedDefault(t *testing.T) {
	bin := frontdeskBinary.Path(t)
	dir := t.TempDir()
	port := servetest.FreePort(t)
	base := fmt.Sprintf("http://localhost:%d", port)
	env := servetest.CleanEnv("FRONTDESK_SERVER_LISTEN="+fmt.Sprintf("127.0.0.1:%d", port), "FRONTDESK_SERVER_PUBLIC_URL="+base)

	p := servetest.Serve(t, bin, dir, env)
	created := p.Logged("created the demo practice; open the setup link to choose the owner's password")
	if created == nil {
		t.Fatalf("no setup link logged\n%s", p.Dump())
	}
	setupURL, _ := created["setup_url"].(string)
	if !strings.HasPrefix(setupURL, base+"/p/demo/setup?token=") {
		t.Fatalf("setup_url = %q", setupURL)
	}

	// The message is on disk as an .eml, its link alone on a line, and logged.
	emls, _ := filepath.Glob(filepath.Join(dir, "data", "mail", "*.eml"))
	if len(emls) != 1 {
		t.Fatalf("mail files: %v", emls)
	}
	raw, _ := os.ReadFile(emls[0])
	if !strings.Contains(strings.ReplaceAll(string(raw), "\r\n", "\n"), "\n"+setupURL+"\n") {
		t.Errorf("setup link not alone on a line in %s:\n%s", emls[0], raw)
	}
	if p.Logged("mail written to file") == nil {
		t.Error("mail links not logged")
	}

	// The owner opens the link, sets a password and lands signed in.
	owner := newBrowser(t, base)
	status, page := owner.get(setupURL)
	if status != 200 || !strings.Contains(page, "owner@demo.example") {
		t.Fatalf("setup page: %d\n%s", status, page)
	}
	status, page = owner.submit(page, "/p/demo/setup", url.Values{"new_password": {ownerPassword}, "confirm_password": {ownerPassword}})
	if status != 200 || !strings.Contains(page, "You have been signed in") || !strings.Contains(page, "Demo Practice") {
		t.Fatalf("after setup: %d\n%s", status, page)
	}
	// The link is single-use.
	if status, _ := newBrowser(t, base).get(setupURL); status != http.StatusGone {
		t.Errorf("setup link reused: %d", status)
	}

	// Log out, then log in through the HTML form.
	status, page = owner.submit(page, "/p/demo/logout", nil)
	if status != 200 || !strings.Contains(page, "You have logged out") {
		t.Fatalf("logout: %d\n%s", status, page)
	}
	status, page = owner.submit(page, "/p/demo/login", url.Values{"email": {"owner@demo.example"}, "password": {ownerPassword + "x"}})
	if status != http.StatusUnauthorized {
		t.Errorf("wrong password: %d", status)
	}
	status, page = owner.submit(page, "/p/demo/login", url.Values{"email": {"Owner@Demo.Example"}, "password": {ownerPassword}})
	if status != 200 || !strings.Contains(page, "owner@demo.example") {
		t.Fatalf("login: %d\n%s", status, page)
	}

	// An operator creates a second practice while the service runs.
	cli := exec.Command(bin, "practice", "create", "--slug", "sunrise", "--name", "Sunrise Therapy",
		"--owner-email", "olive@example.org", "--json")
	cli.Dir, cli.Env = dir, env
	out, err := cli.Output()
	if err != nil {
		t.Fatalf("practice create: %v", err)
	}
	var res struct {
		PracticeID string `json:"practice_id"`
		OwnerID    string `json:"owner_id"`
		SetupURL   string `json:"setup_url"`
	}
	if err := json.Unmarshal(out, &res); err != nil || res.PracticeID == "" || res.OwnerID == "" ||
		!strings.HasPrefix(res.SetupURL, base+"/p/sunrise/setup?token=") {
		t.Fatalf("practice create --json = %s (%v)", out, err)
	}
	if status, page := newBrowser(t, base).get(res.SetupURL); status != 200 || !strings.Contains(page, "olive@example.org") {
		t.Errorf("CLI setup link on the running service: %d", status)
	}

	// Graceful stop, restart: nothing lost, no second demo practice.
	p.Stop()
	p2 := servetest.Serve(t, bin, dir, env)
	if p2.Logged("created the demo practice; open the setup link to choose the owner's password") != nil {
		t.Error("demo practice created again on restart")
	}
	again := newBrowser(t, base)
	_, page = again.get("/p/demo/login")
	status, page = again.submit(page, "/p/demo/login", url.Values{"email": {"owner@demo.example"}, "password": {ownerPassword}})
	if status != 200 || !strings.Contains(page, "You have been signed in") {
		t.Fatalf("login after restart: %d\n%s", status, page)
	}
	if status, _ := owner.get("/p/demo/"); status != 200 {
		t.Errorf("session did not survive the restart: %d", status)
	}
	p2.Stop()
}

func TestEndToEndPostgres(t *testing.T) {
	bin := frontdeskBinary.Path(t)
	_, dsn := storetest.DSN(t, store.Postgres)
	dir := t.TempDir()
	port := servetest.FreePort(t)
	base := fmt.Sprintf("http://localhost:%d", port)
	env := servetest.CleanEnv("FRONTDESK_SERVER_LISTEN="+fmt.Sprintf("127.0.0.1:%d", port), "FRONTDESK_SERVER_PUBLIC_URL="+base,
		"FRONTDESK_DATABASE_URL="+dsn)

	mig := exec.Command(bin, "migrate")
	mig.Dir, mig.Env = dir, env
	if out, err := mig.CombinedOutput(); err != nil || !strings.Contains(string(out), "schema is at version") {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	p := servetest.Serve(t, bin, dir, env)
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
	if _, err := os.Stat(filepath.Join(dir, "data", "frontdesk.db")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a SQLite file was created although database.url is PostgreSQL: %v", err)
	}
	p.Stop()
}

func TestCommandLine(t *testing.T) {
	bin := frontdeskBinary.Path(t)
	dir := t.TempDir()
	run := func(env []string, args ...string) (int, string, string) {
		t.Helper()
		ctx := testwait.Context(t) // a hang guard, not a time limit
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Dir, cmd.Env = dir, env
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := 0
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			code = exit.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return code, stdout.String(), stderr.String()
	}
	tests := []struct {
		name     string
		env      []string
		args     []string
		code     int
		inStdout string
		inStderr string
	}{
		{"version", nil, []string{"version"}, 0, "frontdesk", ""},
		{"no command", nil, nil, 2, "", "Usage"},
		{"unknown command", nil, []string{"frobnicate"}, 2, "", `unknown command "frobnicate"`},
		// The load tool is its own command (cmd/frontdesk-bench), not shipped.
		{"no load tool", nil, []string{"bench", "--scenario", "refresh"}, 2, "", `unknown command "bench"`},
		{"unknown env setting", []string{"FRONTDESK_SERVER_LISTNE=x"}, []string{"serve"}, 1, "", "FRONTDESK_SERVER_LISTNE"},
		{"bad value", []string{"FRONTDESK_SESSIONS_IDLE_TIMEOUT=-5m"}, []string{"serve"}, 1, "", "sessions.idle_timeout"},
		{"missing secret", []string{"FRONTDESK_MAIL_TRANSPORT=smtp", "FRONTDESK_MAIL_SMTP_HOST=localhost",
			"FRONTDESK_MAIL_SMTP_USERNAME=u"}, []string{"serve"}, 1, "", "mail.smtp_password"},
		{"weak argon2", []string{"FRONTDESK_PASSWORDS_ARGON2_MEMORY_KIB=1024", "FRONTDESK_PASSWORDS_ARGON2_ITERATIONS=1"}, []string{"serve"}, 1, "", "argon2"},
		{"missing flag", nil, []string{"practice", "create", "--slug", "x1"}, 2, "", "--name is required"},
		{"bad slug", nil, []string{"practice", "create", "--slug", "Bad Slug", "--name", "N", "--owner-email", "a@example.org"}, 2, "", "slug"},
		{"create", nil, []string{"practice", "create", "--slug", "harbor", "--name", "Harbor ABA", "--owner-email", "hana@example.org"}, 0, "/p/harbor/setup?token=", ""},
		{"create again", nil, []string{"practice", "create", "--slug", "harbor", "--name", "Harbor ABA", "--owner-email", "hana@example.org"}, 1, "", "already exists"},
		{"migrate", nil, []string{"migrate"}, 0, "schema is at version", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := run(servetest.CleanEnv(tt.env...), tt.args...)
			if code != tt.code || !strings.Contains(stdout, tt.inStdout) || !strings.Contains(stderr, tt.inStderr) {
				t.Errorf("exit %d (want %d)\nstdout: %s\nstderr: %s", code, tt.code, stdout, stderr)
			}
		})
	}
}
