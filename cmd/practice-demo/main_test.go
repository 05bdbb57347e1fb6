package main

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/app/apptest"
	"github.com/frontdeskhq/frontdesk/identity/config"
)

type late struct {
	mu sync.RWMutex
	h  http.Handler
}

func (l *late) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	l.mu.RLock()
	h := l.h
	l.mu.RUnlock()
	h.ServeHTTP(w, r)
}

const (
	demoSecret = "demo-secret-0123456789abcdefghijklmnopqrstuv"
	ownerPw    = "plum velvet orbit canyon 42 kettle"
)

// The demo logs in through a real frontdesk (the full app on SQLite) and
// guards its pages by the owner's real effective permissions.
func TestDemoAgainstFrontdesk(t *testing.T) {
	ctx := context.Background()
	demoLate := &late{}
	demo := httptest.NewTLSServer(demoLate)
	defer demo.Close()
	// frontdesk's back-channel client trusts only real CAs: it reaches the
	// demo over plain HTTP on loopback.
	backchannel := httptest.NewServer(demoLate)
	defer backchannel.Close()

	kit := apptest.New(t, apptest.Configure(func(cfg *config.Config) {
		cfg.OIDC.MasterKey, cfg.AdminAPI.Clients = "", nil
		cfg.Passwords.Argon2MemoryKiB, cfg.Passwords.Argon2Iterations = 7168, 5
		cfg.Clients = []config.Client{{ID: "practice-demo", Secret: demoSecret, RedirectURIs: []string{demo.URL + "/callback"},
			PostLogoutRedirectURIs: []string{demo.URL + "/"}, BackchannelLogoutURI: backchannel.URL + "/backchannel-logout"}}
	}))
	fd := kit.Server
	kit.CreatePracticeWith(account.NewPractice{Slug: "sunrise", Name: "Sunrise", OwnerEmail: "olive@example.org",
		OwnerName: "Olive"}, ownerPw)

	// Both servers use test certificates: one client trusts both.
	hc := fd.Client()
	hc.Transport.(*http.Transport).TLSClientConfig.RootCAs.AddCert(demo.Certificate())
	d, err := newApp(ctx, fd.URL, "practice-demo", demoSecret, "sunrise", demo.URL, hc)
	if err != nil {
		t.Fatal(err)
	}
	demoLate.mu.Lock()
	demoLate.h = d.routes()
	demoLate.mu.Unlock()

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Transport: hc.Transport, Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(u string) *http.Response {
		resp, err := browser.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	body := func(resp *http.Response) string {
		b, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		return string(b)
	}
	// Follow the login: demo → frontdesk authorize → login form → callback → demo.
	resp := get(demo.URL + "/clients")
	for range 8 {
		loc := resp.Header.Get("Location")
		_ = body(resp)
		if loc == "" {
			break
		}
		if u, err := url.Parse(loc); err == nil {
			loc = resp.Request.URL.ResolveReference(u).String()
		}
		if strings.Contains(loc, "/p/sunrise/login") {
			page := body(get(loc))
			m := regexp.MustCompile(`name="authRequest" value="([^"]+)"`).FindStringSubmatch(page)
			if m == nil {
				t.Fatalf("login page without authRequest: %s", page)
			}
			form := url.Values{"email": {"olive@example.org"}, "password": {ownerPw}, "authRequest": {m[1]}}
			req, _ := http.NewRequest(http.MethodPost, fd.URL+"/p/sunrise/login", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", fd.URL)
			if resp, err = browser.Do(req); err != nil {
				t.Fatal(err)
			}
			continue
		}
		resp = get(loc)
	}
	if b := body(get(demo.URL + "/")); !strings.Contains(b, "Logged in as Olive") {
		t.Fatalf("demo home after login: %s", b)
	} else if !strings.Contains(b, "Signed in with: pwd.") {
		t.Errorf("demo home does not show the ID token's amr (pwd): %s", b)
	}
	// The owner's preset roles allow the guarded pages.
	for _, p := range []string{"/clients", "/notes", "/billing", "/schedule"} {
		r := get(demo.URL + p)
		if b := body(r); r.StatusCode != http.StatusOK {
			t.Errorf("%s = %d: %s", p, r.StatusCode, b)
		}
	}
	// Logging out at frontdesk reaches the demo over the back channel.
	req, _ := http.NewRequest(http.MethodPost, fd.URL+"/p/sunrise/logout", nil)
	req.Header.Set("Origin", fd.URL)
	if resp, err = browser.Do(req); err != nil {
		t.Fatal(err)
	}
	_ = body(resp)
	if r := get(demo.URL + "/clients"); r.StatusCode != http.StatusFound || !strings.HasSuffix(r.Header.Get("Location"), "/login") {
		t.Errorf("after back-channel logout the demo session still works: %d", r.StatusCode)
	}
}
