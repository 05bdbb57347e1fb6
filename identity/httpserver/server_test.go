package httpserver_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/account/accounttest"
	"github.com/frontdeskhq/frontdesk/identity/httpserver"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
	"github.com/frontdeskhq/frontdesk/templates"
)

const goodPassword = "violet harbor lantern seventeen"

// site is a running frontdesk over TLS with a browser-like client.
type site struct {
	t      *testing.T
	srv    *httptest.Server
	env    *accounttest.Env
	client *http.Client
	setup  string // the owner's setup link
}

// testServer is a TLS test server that starts (and so knows its URL, the
// public URL the services need) before its handler exists; serve sets it.
type testServer struct {
	*httptest.Server
	mu sync.RWMutex
	h  http.Handler
}

func newTestServer(t *testing.T) *testServer {
	t.Helper()
	s := &testServer{}
	s.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.RLock()
		h := s.h
		s.mu.RUnlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// serve builds the HTTP server from d and serves it. What d leaves unset
// is the test default: the embedded pages, a discarded log, the server's
// URL as public URL, 64 KiB bodies, 12-hour session cookies.
func (s *testServer) serve(t *testing.T, d httpserver.Deps) {
	t.Helper()
	if d.Pages == nil {
		pages, err := templates.ParsePages()
		if err != nil {
			t.Fatal(err)
		}
		d.Pages = pages
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.PublicURL == "" {
		d.PublicURL = s.URL
	}
	if d.MaxBodyBytes == 0 {
		d.MaxBodyBytes = 64 << 10
	}
	if d.SessionLifetime == 0 {
		d.SessionLifetime = 12 * time.Hour
	}
	h, err := httpserver.New(d)
	if err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	s.h = h
	s.mu.Unlock()
}

func newSite(t *testing.T, engine store.Engine) *site {
	t.Helper()
	srv := newTestServer(t)
	env := accounttest.New(t, storetest.Open(t, engine), accounttest.Options{PublicURL: srv.URL})
	srv.serve(t, httpserver.Deps{
		Accounts: env.Service, Onboarding: env.Onboard, DB: env.Store, Registry: env.Registry})
	created, err := env.Service.CreatePractice(context.Background(), account.NewPractice{Slug: "sunrise",
		Name: "Sunrise Therapy", OwnerEmail: "olive@example.org", OwnerName: "Olive Owner"}, account.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	return &site{t: t, srv: srv.Server, env: env, client: newBrowser(t, srv.Server), setup: created.SetupURL}
}

// newBrowser is a client with its own cookie jar that does not follow
// redirects. It shares only the server's TLS transport: srv.Client() returns
// one shared client, so setting its jar would make every "browser" one.
func newBrowser(t *testing.T, srv *httptest.Server) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Transport: srv.Client().Transport, Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

type response struct {
	status int
	header http.Header
	body   string
}

func (s *site) do(c *http.Client, method, path string, form url.Values, hdr map[string]string) response {
	s.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	u := path
	if !strings.HasPrefix(path, "https://") {
		u = s.srv.URL + path
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		s.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", s.srv.URL)
	}
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := c.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

func (s *site) get(path string) response { return s.do(s.client, "GET", path, nil, nil) }

func (s *site) post(path string, form url.Values) response {
	return s.do(s.client, "POST", path, form, nil)
}

// activate completes the owner's setup through the pages.
func (s *site) activate() {
	s.t.Helper()
	r := s.get(s.setup)
	if r.status != http.StatusOK || !strings.Contains(r.body, `name="new_password"`) {
		s.t.Fatalf("setup page: %d %s", r.status, r.body)
	}
	token := regexp.MustCompile(`name="token" value="([^"]+)"`).FindStringSubmatch(r.body)
	if token == nil {
		s.t.Fatal("setup page has no token field")
	}
	r = s.post("/p/sunrise/setup", url.Values{"token": {token[1]}, "new_password": {goodPassword}, "confirm_password": {goodPassword}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/p/sunrise/" {
		s.t.Fatalf("setup submit: %d %s", r.status, r.body)
	}
}

func TestSetupLoginLogout(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			s := newSite(t, engine)
			s.activate()
			home := s.get("/p/sunrise/")
			if home.status != http.StatusOK || !strings.Contains(home.body, "Olive Owner") ||
				!strings.Contains(home.body, "Sunrise Therapy") || !strings.Contains(home.body, "olive@example.org") ||
				!strings.Contains(home.body, "You have been signed in since ") {
				t.Fatalf("home after setup: %d %s", home.status, home.body)
			}
			// The setup link is single-use.
			if r := s.get(s.setup); r.status != http.StatusGone || !strings.Contains(r.body, "Ask your practice administrator") {
				t.Errorf("reopened setup link: %d", r.status)
			}

			// Log out; the old cookie is dead server-side even if replayed.
			u, _ := url.Parse(s.srv.URL)
			old := s.client.Jar.Cookies(u)
			r := s.post("/p/sunrise/logout", url.Values{})
			if r.status != http.StatusSeeOther || !strings.Contains(r.header.Get("Location"), "/p/sunrise/login") {
				t.Fatalf("logout: %d", r.status)
			}
			replay := newBrowser(t, s.srv)
			replay.Jar.SetCookies(u, old)
			if r := s.do(replay, "GET", "/p/sunrise/", nil, nil); r.status != http.StatusSeeOther {
				t.Errorf("replayed cookie after logout: %d", r.status)
			}

			// Log in through the form.
			if r := s.get("/p/sunrise/login"); r.status != http.StatusOK || !strings.Contains(r.body, `name="email"`) || !strings.Contains(r.body, `name="password"`) {
				t.Fatalf("login page: %d", r.status)
			}
			r = s.post("/p/sunrise/login", url.Values{"email": {"OLIVE@example.org"}, "password": {goodPassword}})
			if r.status != http.StatusSeeOther {
				t.Fatalf("login: %d %s", r.status, r.body)
			}
			checkSessionCookie(t, r.header)
			if r := s.get("/p/sunrise/"); r.status != http.StatusOK {
				t.Errorf("home after login: %d", r.status)
			}
		})
	}
}

func checkSessionCookie(t *testing.T, h http.Header) {
	t.Helper()
	for _, line := range h.Values("Set-Cookie") {
		if !strings.HasPrefix(line, httpserver.SessionCookie+"=") {
			continue
		}
		for _, attr := range []string{"Path=/", "HttpOnly", "Secure", "SameSite=Lax"} {
			if !strings.Contains(line, attr) {
				t.Errorf("session cookie lacks %s: %s", attr, line)
			}
		}
		if strings.Contains(line, "Domain=") {
			t.Errorf("__Host- cookie has a Domain: %s", line)
		}
		return
	}
	t.Errorf("no session cookie set; headers %v", h)
}

func TestLoginFailuresLookAlike(t *testing.T) {
	s := newSite(t, store.SQLite)
	s.activate()
	anon := newBrowser(t, s.srv)
	wrong := s.do(anon, "POST", "/p/sunrise/login", url.Values{"email": {"olive@example.org"}, "password": {"not the password at all"}}, nil)
	unknown := s.do(anon, "POST", "/p/sunrise/login", url.Values{"email": {"nobody@example.org"}, "password": {"not the password at all"}}, nil)
	if wrong.status != http.StatusUnauthorized || unknown.status != http.StatusUnauthorized {
		t.Fatalf("statuses %d, %d; want 401", wrong.status, unknown.status)
	}
	strip := func(b string) string { return strings.ReplaceAll(b, "nobody@example.org", "olive@example.org") }
	if strip(unknown.body) != wrong.body {
		t.Error("unknown email and wrong password give different pages")
	}
	if !strings.Contains(wrong.body, "ask your practice administrator") {
		t.Error("failure page does not say what to do next")
	}
	if len(wrong.header.Values("Set-Cookie")) != 0 {
		t.Error("failed login set a cookie")
	}
}

func TestFormsRefuseCrossOrigin(t *testing.T) {
	s := newSite(t, store.SQLite)
	s.activate()
	form := url.Values{"email": {"olive@example.org"}, "password": {goodPassword}}
	tests := []struct {
		name string
		hdr  map[string]string
		want int
	}{
		{"foreign origin", map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
		{"cross-site fetch metadata", map[string]string{"Origin": "", "Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"no origin at all", map[string]string{"Origin": ""}, http.StatusForbidden},
		{"same origin", nil, http.StatusSeeOther},
		{"same-origin fetch metadata", map[string]string{"Origin": "", "Sec-Fetch-Site": "same-origin"}, http.StatusSeeOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.do(newBrowser(t, s.srv), "POST", "/p/sunrise/login", form, tt.hdr)
			if r.status != tt.want {
				t.Errorf("status %d, want %d", r.status, tt.want)
			}
		})
	}
	// Logout and password change are forms too.
	for _, path := range []string{"/p/sunrise/logout", "/p/sunrise/password", "/p/sunrise/setup"} {
		if r := s.do(s.client, "POST", path, url.Values{}, map[string]string{"Origin": "https://evil.example"}); r.status != http.StatusForbidden {
			t.Errorf("%s cross-origin: %d", path, r.status)
		}
	}
	if r := s.get("/p/sunrise/"); r.status != http.StatusOK {
		t.Errorf("cross-origin logout ended the session: %d", r.status)
	}
}

func TestLoginRotatesSession(t *testing.T) {
	s := newSite(t, store.SQLite)
	s.activate()
	u, _ := url.Parse(s.srv.URL)
	before := s.client.Jar.Cookies(u)
	r := s.post("/p/sunrise/login", url.Values{"email": {"olive@example.org"}, "password": {goodPassword}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("login: %d", r.status)
	}
	after := s.client.Jar.Cookies(u)
	if len(before) != 1 || len(after) != 1 || before[0].Value == after[0].Value {
		t.Fatalf("session not rotated: %v -> %v", before, after)
	}
	replay := newBrowser(t, s.srv)
	replay.Jar.SetCookies(u, before)
	if r := s.do(replay, "GET", "/p/sunrise/", nil, nil); r.status != http.StatusSeeOther {
		t.Errorf("pre-login session still valid after a new login: %d", r.status)
	}
}

func TestChangePasswordPage(t *testing.T) {
	s := newSite(t, store.SQLite)
	s.activate()
	const next = "quiet meadow under copper rain"
	tests := []struct {
		name   string
		form   url.Values
		status int
		text   string
	}{
		{"wrong current", url.Values{"password": {"something else entirely"}, "new_password": {next}, "confirm_password": {next}}, 401, "current password is not right"},
		{"mismatch", url.Values{"password": {goodPassword}, "new_password": {next}, "confirm_password": {next + "x"}}, 400, "not the same"},
		{"too short", url.Values{"password": {goodPassword}, "new_password": {"short"}, "confirm_password": {"short"}}, 400, "15"},
		{"ok", url.Values{"password": {goodPassword}, "new_password": {next}, "confirm_password": {next}}, 303, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.post("/p/sunrise/password", tt.form)
			if r.status != tt.status || !strings.Contains(r.body, tt.text) {
				t.Errorf("status %d, want %d; body has %q? %s", r.status, tt.status, tt.text, r.body)
			}
		})
	}
	if r := s.get("/p/sunrise/?changed=1"); !strings.Contains(r.body, "password has been changed") {
		t.Error("no confirmation after password change")
	}
}

func TestSetupPageErrors(t *testing.T) {
	s := newSite(t, store.SQLite)
	u, _ := url.Parse(s.setup)
	token := u.Query().Get("token")
	tests := []struct {
		name   string
		form   url.Values
		status int
		text   string
	}{
		{"short", url.Values{"token": {token}, "new_password": {"short"}, "confirm_password": {"short"}}, 400, "15"},
		{"common", url.Values{"token": {token}, "new_password": {"passwordpassword"}, "confirm_password": {"passwordpassword"}}, 400, "class=\"error\""},
		{"mismatch", url.Values{"token": {token}, "new_password": {goodPassword}, "confirm_password": {goodPassword + "!"}}, 400, "not the same"},
		{"bad token", url.Values{"token": {"nope"}, "new_password": {goodPassword}, "confirm_password": {goodPassword}}, 410, "new one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.post("/p/sunrise/setup", tt.form)
			if r.status != tt.status || !strings.Contains(r.body, tt.text) {
				t.Errorf("status %d, want %d with %q: %s", r.status, tt.status, tt.text, r.body)
			}
		})
	}
	// None of the refusals consumed the link.
	s.activate()
}

func TestProbesHeadersAndLimits(t *testing.T) {
	s := newSite(t, store.SQLite)
	if r := s.get("/healthz"); r.status != 200 {
		t.Errorf("healthz %d", r.status)
	}
	if r := s.get("/readyz"); r.status != 200 {
		t.Errorf("readyz %d", r.status)
	}
	s.get("/p/sunrise/login")
	r := s.get("/metrics")
	if r.status != 200 || !strings.Contains(r.body, "frontdesk_http_request_duration_seconds") {
		t.Errorf("metrics: %d", r.status)
	}
	r = s.get("/p/sunrise/login")
	for k, want := range map[string]string{
		"Content-Security-Policy":   "frame-ancestors 'none'",
		"X-Content-Type-Options":    "nosniff",
		"Referrer-Policy":           "no-referrer",
		"Strict-Transport-Security": "max-age=",
		"Cache-Control":             "no-store",
	} {
		if !strings.Contains(r.header.Get(k), want) {
			t.Errorf("%s = %q, want it to contain %q", k, r.header.Get(k), want)
		}
	}
	if len(r.header.Get("X-Request-ID")) < 16 {
		t.Errorf("X-Request-ID = %q", r.header.Get("X-Request-ID"))
	}
	if r := s.get("/p/nope/login"); r.status != http.StatusNotFound {
		t.Errorf("unknown practice: %d", r.status)
	}
	big := url.Values{"email": {"olive@example.org"}, "password": {strings.Repeat("x", 100<<10)}}
	if r := s.post("/p/sunrise/login", big); r.status != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized body: %d", r.status)
	}
	if r := s.get("/static/style.css"); r.status != 200 {
		t.Errorf("stylesheet: %d", r.status)
	}
}

func TestReadyzReportsDatabaseDown(t *testing.T) {
	s := newSite(t, store.SQLite)
	_ = s.env.Store.Close()
	if r := s.get("/readyz"); r.status != http.StatusServiceUnavailable {
		t.Errorf("readyz with database closed: %d", r.status)
	}
	if r := s.get("/healthz"); r.status != http.StatusOK {
		t.Errorf("healthz with database closed: %d", r.status)
	}
}
