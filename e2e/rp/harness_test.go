package rp

// The harness: the real frontdesk (identity/app, the same assembly as
// `frontdesk serve`, configured from a YAML file like an operator's) on a
// loopback port, a practice whose owner holds roles, a scripted browser (an
// HTTP client with a cookie jar that follows redirects and posts frontdesk's
// login form), and the steps every relying party goes through: log in, read
// the role claims, refresh, log out.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"text/template"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/app/apptest"
	"github.com/frontdeskhq/frontdesk/identity/config"
	"github.com/frontdeskhq/frontdesk/identity/roles"
	"github.com/frontdeskhq/frontdesk/internal/testenv"
	"github.com/frontdeskhq/frontdesk/internal/testwait"
)

// The practice every test logs in to, and its owner.
const (
	practiceSlug  = "clinic"
	ownerEmail    = "owner@clinic.example"
	ownerPassword = "rp-matrix owner: walnut ferry lantern 31"
)

// ownerRoles are the roles the owner holds (therapynotes preset): the
// owner's own and a clinician's, so the roles claim is a list of two.
var ownerRoles = []string{"owner", "clinician"}

// Every relying party asks for the scopes "openid email profile
// offline_access roles": offline_access for a refresh token, roles for the
// practice and role claims in the ID token.

// missing skips the test with why, or fails it in CI (CI=true).
func missing(t *testing.T, why string) {
	t.Helper()
	testenv.Missing(t, "relying-party test", why, "run `make services`; scripts/services.sh installs it")
}

// repoRoot is the directory of go.mod above the test's working directory.
func repoRoot(t *testing.T) string { return testenv.RepoRoot(t) }

// listenLoopback opens a listener on a free loopback port.
func listenLoopback(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	return ln
}

// port is a listener's port.
func port(ln net.Listener) int { return ln.Addr().(*net.TCPAddr).Port }

// issuerOf is the issuer of the frontdesk that will serve on ln.
func issuerOf(ln net.Listener) string { return fmt.Sprintf("http://localhost:%d", port(ln)) }

// client is the configured client of one relying party (testdata/frontdesk.yaml).
type client struct {
	ClientID, ClientSecret             string
	RedirectURI, PostLogoutRedirectURI string
}

// frontdesk is a running frontdesk.
type frontdesk struct {
	issuer string // http://localhost:PORT
}

// startFrontdesk writes testdata/frontdesk.yaml for cl into a temporary
// directory, loads it as `frontdesk serve --config` does (without the
// environment's FRONTDESK_* variables), and serves it on ln at
// http://localhost:PORT, with the practice "clinic" whose owner has chosen
// ownerPassword and holds ownerRoles.
func startFrontdesk(t *testing.T, ln net.Listener, cl client) *frontdesk {
	t.Helper()
	issuer := issuerOf(ln)
	dir := t.TempDir()
	tmpl, err := template.ParseFiles(filepath.Join("testdata", "frontdesk.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, struct {
		client
		Issuer, DataDir string
	}{cl, issuer, filepath.Join(dir, "data")}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "frontdesk.yaml")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path, nil)
	if err != nil {
		t.Fatalf("testdata/frontdesk.yaml: %v", err)
	}
	logBuf := &bytes.Buffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("frontdesk's log:\n%s", logBuf)
		}
	})
	kit := apptest.New(t, apptest.Base(cfg), apptest.Listen(ln), apptest.Log(&lockedWriter{w: logBuf}, slog.LevelDebug))
	created := kit.CreatePracticeWith(account.NewPractice{Slug: practiceSlug, Name: "Clinic", OwnerEmail: ownerEmail,
		OwnerName: "Olive Owner", Preset: "therapynotes"}, ownerPassword)
	ownerID := kit.IDs[ownerEmail]
	if err := kit.App.Roles.SetMemberRoles(context.Background(), roles.Actor{PracticeID: created.ID,
		MemberID: ownerID}, ownerID, ownerRoles, roles.Meta{}); err != nil {
		t.Fatal(err)
	}
	return &frontdesk{issuer: issuer}
}

// lockedWriter serialises writes to w.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// process is a relying party running as a child process.
type process struct {
	cmd    *exec.Cmd
	output *lockedWriter // stdout and stderr
	buf    *bytes.Buffer
	exited chan struct{} // closed when the process has exited
}

// startProcess starts cmd, keeping its output for the test's log, and kills
// it at the end of the test. ready is sent each line of its standard
// output; startProcess returns once ready says yes, and fails the test if
// the process exits first or its hang guard passes. ready nil returns at
// once.
func startProcess(t *testing.T, cmd *exec.Cmd, ready func(line string) bool) *process {
	t.Helper()
	buf := &bytes.Buffer{}
	p := &process{cmd: cmd, buf: buf, output: &lockedWriter{w: buf}, exited: make(chan struct{})}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = p.output
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", cmd.Path, err)
	}
	isReady := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		signalled := false
		for sc.Scan() {
			_, _ = fmt.Fprintln(p.output, sc.Text())
			if !signalled && ready != nil && ready(sc.Text()) {
				signalled = true
				close(isReady)
			}
		}
		_ = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.exited
		if t.Failed() {
			t.Logf("output of %s:\n%s", filepath.Base(cmd.Path), p.logs())
		}
	})
	if ready == nil {
		return p
	}
	select {
	case <-isReady:
	case <-p.exited:
		t.Fatalf("%s exited before it was ready: %v\n%s", filepath.Base(cmd.Path), cmd.ProcessState, p.logs())
	case <-time.After(time.Until(testwait.At(t))):
		t.Fatalf("%s was still not ready near the test's deadline (hang guard)\n%s", filepath.Base(cmd.Path), p.logs())
	}
	return p
}

func (p *process) logs() string {
	p.output.mu.Lock()
	defer p.output.mu.Unlock()
	return p.buf.String()
}

// browser is a scripted browser: a cookie jar, redirects followed, every
// URL it visited recorded.
type browser struct {
	t       *testing.T
	ctx     context.Context // ends at the test's hang guard
	c       *http.Client
	visited []string
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := testwait.Context(t)
	b := &browser{t: t, ctx: ctx}
	b.c = &http.Client{Jar: jar,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 20 {
				return errors.New("more than 20 redirects")
			}
			b.visited = append(b.visited, req.URL.String())
			return nil
		}}
	return b
}

// page is where a browser landed.
type page struct {
	url    *url.URL
	status int
	header http.Header
	body   string
}

// do sends req and follows redirects; the result is the last page.
func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	req = req.WithContext(b.ctx)
	req.Header.Set("User-Agent", "frontdesk-rp-test")
	// A browser's navigation: mod_auth_openidc answers 401 rather than
	// redirecting a request that does not accept HTML.
	req.Header.Set("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
	b.visited = append(b.visited, req.URL.String())
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		b.t.Fatal(err)
	}
	return page{url: res.Request.URL, status: res.StatusCode, header: res.Header, body: string(body)}
}

// get opens u.
func (b *browser) get(u string) page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

var (
	formRE  = regexp.MustCompile(`(?s)<form[^>]*\baction="([^"]*)"[^>]*>(.*?)</form>`)
	inputRE = regexp.MustCompile(`<input\b[^>]*>`)
	attrRE  = regexp.MustCompile(`\b(name|value|type)="([^"]*)"`)
)

// submitLogin fills in frontdesk's login form on p (email, password and
// every hidden input) and posts it with a same-origin Origin header, as a
// browser does; the result is where the redirects end.
func (b *browser) submitLogin(p page, email, password string) page {
	b.t.Helper()
	if !strings.HasSuffix(p.url.Path, "/p/"+practiceSlug+"/login") || p.status != http.StatusOK {
		b.t.Fatalf("expected frontdesk's login page, got %d at %s:\n%s", p.status, p.url, p.body)
	}
	m := formRE.FindStringSubmatch(p.body)
	if m == nil {
		b.t.Fatalf("no form on the login page:\n%s", p.body)
	}
	form := url.Values{}
	for _, in := range inputRE.FindAllString(m[2], -1) {
		attrs := map[string]string{}
		for _, a := range attrRE.FindAllStringSubmatch(in, -1) {
			attrs[a[1]] = html.UnescapeString(a[2])
		}
		switch {
		case attrs["name"] == "email":
			form.Set("email", email)
		case attrs["name"] == "password":
			form.Set("password", password)
		case attrs["type"] == "hidden":
			form.Set(attrs["name"], attrs["value"])
		}
	}
	if !form.Has("authRequest") {
		b.t.Fatalf("the login form carries no authRequest:\n%s", m[0])
	}
	action, err := p.url.Parse(html.UnescapeString(m[1]))
	if err != nil {
		b.t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, action.String(), strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", p.url.Scheme+"://"+p.url.Host)
	return b.do(req)
}

// report is what a relying party got from frontdesk, as it reports it.
type report struct {
	IDToken      map[string]any `json:"id_token"`      // the verified ID token's claims
	UserInfo     map[string]any `json:"userinfo"`      // the userinfo response
	AccessToken  string         `json:"access_token"`  // opaque to the relying party
	RefreshToken string         `json:"refresh_token"` // shown for the test only
}

// claimSources are where a relying party may find the practice and role
// claims: in the ID token (with the roles scope), the userinfo response, or
// the access token (always).
func (r report) claimSources(t *testing.T) map[string]map[string]any {
	t.Helper()
	at := map[string]any{}
	if parts := strings.Split(r.AccessToken, "."); len(parts) == 3 {
		raw, err := base64.RawURLEncoding.DecodeString(parts[1])
		if err != nil {
			t.Fatalf("access token payload: %v", err)
		}
		if err := json.Unmarshal(raw, &at); err != nil {
			t.Fatalf("access token payload: %v", err)
		}
	}
	return map[string]map[string]any{"ID token": r.IDToken, "userinfo": r.UserInfo, "access token": at}
}

// checkClaims checks that r carries the owner's identity, practice and
// roles, and logs where the relying party found the role claims.
func checkClaims(t *testing.T, name string, r report, f *frontdesk) {
	t.Helper()
	if r.IDToken["iss"] != f.issuer {
		t.Errorf("%s: ID token iss = %v, want %s", name, r.IDToken["iss"], f.issuer)
	}
	if r.IDToken["sub"] == nil || r.IDToken["sub"] == "" {
		t.Errorf("%s: ID token has no sub: %v", name, r.IDToken)
	}
	if r.UserInfo != nil && r.UserInfo["sub"] != r.IDToken["sub"] {
		t.Errorf("%s: userinfo sub %v, ID token sub %v", name, r.UserInfo["sub"], r.IDToken["sub"])
	}
	if email := firstClaim(r, "email"); email != ownerEmail {
		t.Errorf("%s: email claim %v, want %s", name, email, ownerEmail)
	}
	var found []string
	for _, src := range []string{"ID token", "userinfo", "access token"} {
		claims := r.claimSources(t)[src]
		list, ok := claims["roles"].([]any)
		if !ok {
			continue
		}
		if claims["practice"] != practiceSlug {
			t.Errorf("%s: %s practice = %v, want %s", name, src, claims["practice"], practiceSlug)
		}
		var got []string
		for _, r := range list {
			s, _ := r.(string)
			got = append(got, s)
		}
		if !sameSet(got, ownerRoles) {
			t.Errorf("%s: %s roles = %v, want %v", name, src, got, ownerRoles)
		}
		found = append(found, fmt.Sprintf("%s (roles %v)", src, got))
	}
	if len(found) == 0 {
		t.Fatalf("%s read no role claims: ID token %v, userinfo %v", name, r.IDToken, r.UserInfo)
	}
	t.Logf("%s read the practice and role claims from: %s", name, strings.Join(found, "; "))
}

// sameSet says whether a and b hold the same strings.
func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// firstClaim is the claim from the ID token, else from userinfo.
func firstClaim(r report, name string) any {
	if v, ok := r.IDToken[name]; ok {
		return v
	}
	return r.UserInfo[name]
}

// relyingParty is one relying party under test, already running.
type relyingParty struct {
	name      string
	client    client                            // its configured client
	loginURL  string                            // opening it starts a login
	read      func(t *testing.T, p page) report // what the relying party reports on a page it served
	refresh   func(r report) string             // a URL that makes it refresh, given its last report
	logoutURL string                            // opening it starts RP-initiated logout
	loggedOut string                            // the post-logout redirect URI
}

// exercise runs the matrix's steps for rp against f: log in, read the role
// claims, refresh, log out (ending frontdesk's session without a
// confirmation page), and log in again (which must ask for the password).
func exercise(t *testing.T, f *frontdesk, rp relyingParty) {
	t.Helper()
	b := newBrowser(t)

	// Log in.
	login := b.get(rp.loginURL)
	if !strings.HasPrefix(login.url.String(), f.issuer+"/") {
		t.Fatalf("%s did not send the browser to frontdesk: %d at %s\n%s", rp.name, login.status, login.url, login.body)
	}
	back := b.submitLogin(login, ownerEmail, ownerPassword)
	if back.status != http.StatusOK {
		t.Fatalf("after login: %d at %s\n%s", back.status, back.url, back.body)
	}
	first := rp.read(t, back)
	checkClaims(t, rp.name, first, f)
	if first.RefreshToken == "" {
		t.Fatalf("%s got no refresh token (scope offline_access)", rp.name)
	}

	// Refresh.
	refreshed := b.get(rp.refresh(first))
	if refreshed.status != http.StatusOK {
		t.Fatalf("refresh: %d at %s\n%s", refreshed.status, refreshed.url, refreshed.body)
	}
	second := rp.read(t, refreshed)
	if second.AccessToken == "" || second.AccessToken == first.AccessToken {
		t.Fatalf("%s: refresh gave no new access token", rp.name)
	}
	if second.RefreshToken == "" || second.RefreshToken == first.RefreshToken {
		t.Fatalf("%s: the refresh token did not rotate", rp.name)
	}
	checkClaims(t, rp.name+" after refresh", second, f)

	// RP-initiated logout: frontdesk ends its session at once (the
	// id_token_hint names it) and sends the browser back.
	b.visited = nil
	out := b.get(rp.logoutURL)
	if out.status != http.StatusOK || !strings.HasPrefix(out.url.String(), rp.loggedOut) {
		t.Fatalf("logout ended at %d %s, want %s:\n%s", out.status, out.url, rp.loggedOut, out.body)
	}
	if !slices.ContainsFunc(b.visited, func(u string) bool { return strings.HasPrefix(u, f.issuer+"/oauth2/end_session") }) {
		t.Errorf("%s's logout did not go through frontdesk's end_session: %v", rp.name, b.visited)
	}
	if slices.ContainsFunc(b.visited, func(u string) bool { return strings.Contains(u, "/p/"+practiceSlug+"/logout") }) {
		t.Errorf("%s's logout stopped at frontdesk's confirmation page: %v", rp.name, b.visited)
	}

	// The logout revoked the refresh tokens issued under the session.
	if code, body := refreshGrant(t, f, rp.client, second.RefreshToken); code != http.StatusBadRequest ||
		!strings.Contains(body, `"invalid_grant"`) {
		t.Errorf("%s's refresh token after logout: %d %s, want 400 invalid_grant", rp.name, code, body)
	}

	// Both sessions are over: a new login asks for the password again.
	again := b.get(rp.loginURL)
	if !strings.HasSuffix(again.url.Path, "/p/"+practiceSlug+"/login") {
		t.Fatalf("after logout, logging in again ended at %d %s instead of frontdesk's login page", again.status, again.url)
	}
}

// refreshGrant presents a refresh token at frontdesk's token endpoint as
// cl, and returns the status and body of the answer.
func refreshGrant(t *testing.T, f *frontdesk, cl client, refreshToken string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithDeadline(context.Background(), testwait.At(t))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.issuer+"/oauth2/token",
		strings.NewReader(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}}.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(cl.ClientID), url.QueryEscape(cl.ClientSecret))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<16))
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(body)
}

// readJSON reads a report a relying party served as JSON.
func readJSON(t *testing.T, p page) report {
	t.Helper()
	var r report
	if err := json.Unmarshal([]byte(p.body), &r); err != nil {
		t.Fatalf("relying party's report at %s: %v\n%s", p.url, err, p.body)
	}
	return r
}
