package rp

// The matrix: one test per relying party, each unmodified from its registry
// or Debian package, each going through exercise's steps against its own
// frontdesk.

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/frontdeskhq/frontdesk/internal/testwait"
)

// endToEnd skips an end-to-end test under -short (make test-short starts no
// services), and otherwise runs it in parallel with the others: each has
// its own frontdesk and relying party.
func endToEnd(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("relying-party test; skipped with -short")
	}
	t.Parallel()
}

// newClient is a configured client with a fresh secret.
func newClient(id, redirectURI, postLogoutRedirectURI string) client {
	return client{ClientID: id, ClientSecret: rand.Text(), RedirectURI: redirectURI,
		PostLogoutRedirectURI: postLogoutRedirectURI}
}

// appRP is a relying party with the pages of testdata's apps: /login,
// /callback and /refresh (which answer with a JSON report), /logout and
// /logged-out.
func appRP(name, base string, cl client) relyingParty {
	return relyingParty{name: name, client: cl, loginURL: base + "/login", read: readJSON,
		refresh:   func(report) string { return base + "/refresh" },
		logoutURL: base + "/logout", loggedOut: base + "/logged-out"}
}

func TestGoOIDC(t *testing.T) {
	endToEnd(t)
	fdLn, appLn := listenLoopback(t), listenLoopback(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port(appLn))
	cl := newClient("rp-go", base+"/callback", base+"/logged-out")
	f := startFrontdesk(t, fdLn, cl)

	ctx, cancel := context.WithDeadline(context.Background(), testwait.At(t))
	defer cancel()
	app, err := newGoApp(ctx, f.issuer, cl.ClientID, cl.ClientSecret, base)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: app, ReadHeaderTimeout: 5 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(appLn) }()
	t.Cleanup(func() { _ = srv.Close(); <-served })

	exercise(t, f, appRP("go-oidc + x/oauth2", base, cl))
}

// startApp runs one of testdata's apps (argv) with its listener as file
// descriptor 3, the issuer and its client in the environment, and waits
// until it prints "ready".
func startApp(t *testing.T, f *frontdesk, cl client, appLn net.Listener, base, dir string, argv ...string) {
	t.Helper()
	lf, err := appLn.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.ExtraFiles = []*os.File{lf}
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "LANG=C.UTF-8",
		"RP_ISSUER=" + f.issuer, "RP_CLIENT_ID=" + cl.ClientID, "RP_CLIENT_SECRET=" + cl.ClientSecret, "RP_BASE=" + base}
	startProcess(t, cmd, func(line string) bool { return line == "ready" })
	_ = lf.Close()
	_ = appLn.Close() // the app has its own copy
}

func TestOpenIDClient(t *testing.T) {
	endToEnd(t)
	node, err := exec.LookPath("node")
	if err != nil {
		missing(t, "node is not installed")
	}
	modules := filepath.Join(repoRoot(t), ".cache", "npm", "node_modules")
	pkg, err := os.ReadFile(filepath.Join(modules, "openid-client", "package.json"))
	if err != nil {
		missing(t, fmt.Sprintf("openid-client is not installed in .cache/npm (%v)", err))
	}
	var meta struct{ Version string }
	if err := json.Unmarshal(pkg, &meta); err != nil || !strings.HasPrefix(meta.Version, "6.") {
		t.Fatalf("openid-client in .cache/npm is %q (%v), want 6.x", meta.Version, err)
	}
	t.Logf("openid-client %s on %s", meta.Version, nodeVersion(t, node))

	// The app beside a node_modules, so that its import finds openid-client.
	dir := t.TempDir()
	src, err := os.ReadFile(filepath.Join("testdata", "openid-client", "rp.mjs"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "rp.mjs"), src, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(modules, filepath.Join(dir, "node_modules")); err != nil {
		t.Fatal(err)
	}

	fdLn, appLn := listenLoopback(t), listenLoopback(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port(appLn))
	cl := newClient("rp-node", base+"/callback", base+"/logged-out")
	f := startFrontdesk(t, fdLn, cl)
	startApp(t, f, cl, appLn, base, dir, node, "rp.mjs")
	exercise(t, f, appRP("openid-client "+meta.Version, base, cl))
}

func nodeVersion(t *testing.T, node string) string {
	t.Helper()
	out, err := exec.Command(node, "--version").Output()
	if err != nil {
		t.Fatalf("node --version: %v", err)
	}
	return "Node " + strings.TrimSpace(string(out))
}

// debianPython is Debian's Python, where python3-authlib installs Authlib
// (not a python3 of pyenv's or a virtualenv's that may come first on PATH).
const debianPython = "/usr/bin/python3"

func TestAuthlib(t *testing.T) {
	endToEnd(t)
	out, err := exec.Command(debianPython, "-c", "import authlib, requests; print(authlib.__version__)").CombinedOutput()
	if err != nil {
		missing(t, fmt.Sprintf("%s cannot import authlib and requests (Debian's python3-authlib, python3-requests): %v: %s",
			debianPython, err, strings.TrimSpace(string(out))))
	}
	version := strings.TrimSpace(string(out))
	script, err := filepath.Abs(filepath.Join("testdata", "authlib", "rp.py"))
	if err != nil {
		t.Fatal(err)
	}

	fdLn, appLn := listenLoopback(t), listenLoopback(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port(appLn))
	cl := newClient("rp-python", base+"/callback", base+"/logged-out")
	f := startFrontdesk(t, fdLn, cl)
	startApp(t, f, cl, appLn, base, t.TempDir(), debianPython, "-B", script)
	exercise(t, f, appRP("Authlib "+version, base, cl))
}

// Debian's Apache and mod_auth_openidc.
const (
	apacheBinary = "/usr/sbin/apache2"
	openidcSO    = "/usr/lib/apache2/modules/mod_auth_openidc.so"
)

func TestModAuthOpenIDC(t *testing.T) {
	endToEnd(t)
	for _, p := range []string{apacheBinary, openidcSO} {
		if _, err := os.Stat(p); err != nil {
			missing(t, fmt.Sprintf("%v (Debian's apache2 and libapache2-mod-auth-openidc)", err))
		}
	}
	// Apache opens its own port: find a free one, let it go and start
	// Apache at once (frontdesk after it: mod_auth_openidc reads the
	// discovery document on the first login), so that the port has little
	// time to be taken by another program.
	fdLn := listenLoopback(t)
	issuer := issuerOf(fdLn)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	apachePort := port(ln)
	base := fmt.Sprintf("http://127.0.0.1:%d", apachePort)
	cl := newClient("rp-apache", base+"/protected/redirect_uri", base+"/logged-out.html")

	// Its own ServerRoot, readable by the user Apache drops to when root.
	dir, err := os.MkdirTemp("", "frontdesk-apache-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	for path, text := range map[string]string{
		"htdocs/protected/index.html": "<!doctype html><title>Practice app</title><p>Signed in.\n",
		"htdocs/logged-out.html":      "<!doctype html><title>Practice app</title><p>logged out\n",
	} {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(path)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, path), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	tmpl, err := template.ParseFiles(filepath.Join("testdata", "mod_auth_openidc", "httpd.conf"))
	if err != nil {
		t.Fatal(err)
	}
	conf, err := os.Create(filepath.Join(dir, "httpd.conf"))
	if err != nil {
		t.Fatal(err)
	}
	err = tmpl.Execute(conf, struct {
		client
		Dir, Issuer, Base, Passphrase string
		Port                          int
	}{cl, dir, issuer, base, rand.Text(), apachePort})
	if cerr := conf.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}

	// In the foreground, one process (-X), killed at the end of the test.
	cmd := exec.Command(apacheBinary, "-X", "-d", dir, "-f", filepath.Join(dir, "httpd.conf"))
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "LANG=C"}
	_ = ln.Close()
	proc := startProcess(t, cmd, nil)
	t.Cleanup(func() {
		if t.Failed() {
			if log, err := os.ReadFile(filepath.Join(dir, "error.log")); err == nil {
				t.Logf("Apache's error.log:\n%s", log)
			}
		}
	})
	waitHTTP(t, proc, base+"/logged-out.html")
	f := startFrontdesk(t, fdLn, cl)

	exercise(t, f, relyingParty{name: "mod_auth_openidc", client: cl, loginURL: base + "/protected/",
		read: readApacheHeaders,
		refresh: func(r report) string {
			return base + "/protected/redirect_uri?" + url.Values{"refresh": {base + "/protected/"},
				"access_token": {r.AccessToken}}.Encode()
		},
		logoutURL: base + "/protected/redirect_uri?" + url.Values{"logout": {base + "/logged-out.html"}}.Encode(),
		loggedOut: base + "/logged-out.html"})
}

// readApacheHeaders reads what mod_auth_openidc handed the app behind it,
// echoed by mod_headers.
func readApacheHeaders(t *testing.T, p page) report {
	t.Helper()
	r := report{AccessToken: p.header.Get("OIDC_access_token"), RefreshToken: p.header.Get("OIDC_refresh_token")}
	for name, into := range map[string]*map[string]any{"OIDC_id_token_payload": &r.IDToken, "OIDC_userinfo_json": &r.UserInfo} {
		if err := json.Unmarshal([]byte(p.header.Get(name)), into); err != nil {
			t.Fatalf("header %s at %s: %v (headers %v)", name, p.url, err, p.header)
		}
	}
	// What an app behind Apache reads: one header per claim, lists joined
	// with commas.
	for name, want := range map[string]string{"OIDC_CLAIM_email": ownerEmail, "OIDC_CLAIM_practice": practiceSlug} {
		if got := p.header.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if got := p.header.Get("OIDC_CLAIM_roles"); !sameSet(strings.Split(got, ","), ownerRoles) {
		t.Errorf("OIDC_CLAIM_roles = %q, want %v joined with commas", got, ownerRoles)
	}
	return r
}

// waitHTTP polls u until it answers 200, failing the test if proc exits
// first or the hang guard passes (polling, not a fixed wait).
func waitHTTP(t *testing.T, proc *process, u string) {
	t.Helper()
	ctx, cancel := context.WithDeadline(context.Background(), testwait.At(t))
	defer cancel()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			t.Fatal(err)
		}
		res, err := http.DefaultClient.Do(req)
		if err == nil {
			_ = res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-proc.exited:
			t.Fatalf("%s exited before it answered: %v\n%s", filepath.Base(proc.cmd.Path), proc.cmd.ProcessState, proc.logs())
		case <-ctx.Done():
			t.Fatalf("%s still did not answer near the test's deadline (hang guard): last %v", u, err)
		case <-time.After(20 * time.Millisecond): // the polling interval
		}
	}
}
