package httpserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/account/accounttest"
	"github.com/frontdeskhq/frontdesk/identity/httpserver"
	"github.com/frontdeskhq/frontdesk/identity/passkeys/passkeystest"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
)

// The relying party the passkey tests use; the software authenticator
// reports it whatever the test server's address is.
const (
	pkOrigin = passkeystest.Origin
	pkRPID   = passkeystest.RPID
)

func newPasskeySite(t *testing.T, engine store.Engine) *site {
	t.Helper()
	srv := newTestServer(t)
	env := accounttest.New(t, storetest.Open(t, engine), accounttest.Options{PublicURL: srv.URL})
	pk := passkeystest.NewService(t, env.Store, env.Service, env.Clock.Now)
	srv.serve(t, httpserver.Deps{
		Accounts: env.Service, Onboarding: env.Onboard, DB: env.Store, Registry: env.Registry, Passkeys: pk})
	created, err := env.Service.CreatePractice(context.Background(), account.NewPractice{Slug: "sunrise",
		Name: "Sunrise Therapy", OwnerEmail: "olive@example.org", OwnerName: "Olive Owner"}, account.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	return &site{t: t, srv: srv.Server, env: env, client: newBrowser(t, srv.Server), setup: created.SetupURL}
}

// postJSON posts body as a same-origin fetch would and decodes the answer.
func (s *site) postJSON(c *http.Client, path string, body []byte, hdr map[string]string) (int, map[string]json.RawMessage) {
	s.t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", s.srv.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	res, err := c.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer func() { _ = res.Body.Close() }()
	raw, _ := io.ReadAll(res.Body)
	var out map[string]json.RawMessage
	if err := json.Unmarshal(raw, &out); err != nil {
		s.t.Fatalf("POST %s: %d, not JSON: %s", path, res.StatusCode, raw)
	}
	return res.StatusCode, out
}

func str(m map[string]json.RawMessage, k string) string {
	var v string
	_ = json.Unmarshal(m[k], &v)
	return v
}

// enrol registers a passkey for the signed-in browser c through the endpoints.
func (s *site) enrol(c *http.Client, a *passkeystest.Authenticator, name string) (int, map[string]json.RawMessage) {
	s.t.Helper()
	status, begin := s.postJSON(c, "/p/sunrise/passkeys/register/begin", []byte(`{}`), nil)
	if status != http.StatusOK {
		return status, begin
	}
	q := url.Values{"ceremony": {str(begin, "ceremony")}, "name": {name}}
	return s.postJSON(c, "/p/sunrise/passkeys/register/finish?"+q.Encode(), a.Create(begin["options"]), nil)
}

func (s *site) passkeyLogin(c *http.Client, email string, a *passkeystest.Authenticator) (int, map[string]json.RawMessage) {
	s.t.Helper()
	in, _ := json.Marshal(map[string]string{"email": email})
	status, begin := s.postJSON(c, "/p/sunrise/passkeys/login/begin", in, nil)
	if status != http.StatusOK {
		s.t.Fatalf("login begin: %d %v", status, begin)
	}
	return s.postJSON(c, "/p/sunrise/passkeys/login/finish?ceremony="+url.QueryEscape(str(begin, "ceremony")), a.Get(begin["options"]), nil)
}

func TestPasskeyJourney(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			s := newPasskeySite(t, engine)
			s.activate()
			// Pages offer passkeys and allow only their own script.
			login := s.do(newBrowser(t, s.srv), "GET", "/p/sunrise/login", nil, nil)
			if !strings.Contains(login.body, `id="passkey-login"`) || !strings.Contains(login.body, `src="/static/passkeys.js"`) ||
				!strings.Contains(login.header.Get("Content-Security-Policy"), "script-src 'self'") ||
				strings.Contains(login.header.Get("Content-Security-Policy"), "unsafe-inline") {
				t.Fatalf("login page: %s\n%s", login.header.Get("Content-Security-Policy"), login.body)
			}
			if js := s.get("/static/passkeys.js"); js.status != http.StatusOK || !strings.Contains(js.body, "navigator.credentials") {
				t.Errorf("script: %d", js.status)
			}
			if home := s.get("/p/sunrise/"); !strings.Contains(home.body, `href="/p/sunrise/passkeys"`) {
				t.Errorf("home page has no passkeys link")
			}
			page := s.get("/p/sunrise/passkeys")
			if page.status != http.StatusOK || !strings.Contains(page.body, "no passkeys yet") || strings.Contains(page.body, "Confirm password") {
				t.Fatalf("passkeys page: %d %s", page.status, page.body)
			}

			// Register (fresh login: no password asked).
			a := passkeystest.New(pkOrigin, pkRPID)
			if status, out := s.enrol(s.client, a, "Front desk laptop"); status != http.StatusOK || str(out, "redirect") != "/p/sunrise/passkeys?done=added" {
				t.Fatalf("enrol: %d %v", status, out)
			}
			page = s.get("/p/sunrise/passkeys")
			if !strings.Contains(page.body, "Front desk laptop") {
				t.Fatalf("passkey not listed: %s", page.body)
			}

			// A second browser logs in with the passkey, without an email.
			b := newBrowser(t, s.srv)
			status, out := s.passkeyLogin(b, "", a)
			if status != http.StatusOK || str(out, "redirect") != "/p/sunrise/" {
				t.Fatalf("passkey login: %d %v", status, out)
			}
			home := s.do(b, "GET", "/p/sunrise/", nil, nil)
			if home.status != http.StatusOK || !strings.Contains(home.body, "(passkey)") {
				t.Fatalf("home after passkey login: %d %s", home.status, home.body)
			}
			// With the email, in any case.
			if status, out := s.passkeyLogin(newBrowser(t, s.srv), "OLIVE@example.org", a); status != http.StatusOK {
				t.Errorf("login with email: %d %v", status, out)
			}
			// Another email: refused with the same message as any refusal.
			status, out = s.passkeyLogin(newBrowser(t, s.srv), "someone@example.org", a)
			if status != http.StatusUnauthorized || str(out, "error") != "refused" {
				t.Errorf("wrong email: %d %v", status, out)
			}

			// Rename, then after the re-authentication window removal asks
			// for the password again.
			id := regexp.MustCompile(`/passkeys/([0-9a-f-]{36})/rename`).FindStringSubmatch(page.body)
			if id == nil {
				t.Fatalf("no rename form: %s", page.body)
			}
			if r := s.post("/p/sunrise/passkeys/"+id[1]+"/rename", url.Values{"name": {"Reception"}}); r.status != http.StatusSeeOther {
				t.Errorf("rename: %d %s", r.status, r.body)
			}
			s.env.Clock.Advance(6 * time.Minute)
			if r := s.post("/p/sunrise/passkeys/"+id[1]+"/remove", url.Values{}); r.status != http.StatusForbidden {
				t.Errorf("remove with a stale login: %d", r.status)
			}
			if status, out := s.enrol(s.client, passkeystest.New(pkOrigin, pkRPID), "x"); status != http.StatusForbidden || str(out, "error") != "reauth" {
				t.Errorf("enrol with a stale login: %d %v", status, out)
			}
			page = s.get("/p/sunrise/passkeys")
			if !strings.Contains(page.body, "Confirm password") || !strings.Contains(page.body, "Reception") {
				t.Errorf("stale page: %s", page.body)
			}
			if r := s.post("/p/sunrise/passkeys/reauth", url.Values{"password": {"not my password at all"}}); r.status != http.StatusUnauthorized {
				t.Errorf("reauth with wrong password: %d", r.status)
			}
			if r := s.post("/p/sunrise/passkeys/reauth", url.Values{"password": {goodPassword}}); r.status != http.StatusSeeOther {
				t.Fatalf("reauth: %d %s", r.status, r.body)
			}
			if r := s.post("/p/sunrise/passkeys/"+id[1]+"/remove", url.Values{}); r.status != http.StatusSeeOther {
				t.Errorf("remove: %d %s", r.status, r.body)
			}
			if status, _ := s.passkeyLogin(newBrowser(t, s.srv), "", a); status != http.StatusUnauthorized {
				t.Errorf("login with removed passkey: %d", status)
			}
		})
	}
}

func TestPasskeyEndpointsRefuseCrossOrigin(t *testing.T) {
	s := newPasskeySite(t, store.SQLite)
	s.activate()
	for _, path := range []string{"/p/sunrise/passkeys/register/begin", "/p/sunrise/passkeys/login/begin",
		"/p/sunrise/passkeys/login/finish?ceremony=x", "/p/sunrise/passkeys/reauth"} {
		for _, hdr := range []map[string]string{
			{"Origin": "https://evil.test", "Sec-Fetch-Site": "cross-site", "Content-Type": "application/json"},
			{"Origin": "", "Sec-Fetch-Site": "", "Content-Type": "application/json"},
		} {
			if r := s.do(s.client, "POST", path, url.Values{}, hdr); r.status != http.StatusForbidden {
				t.Errorf("POST %s with %v: %d", path, hdr, r.status)
			}
		}
	}
	// Without a session, registration is 401 JSON, not a redirect.
	if status, out := s.postJSON(newBrowser(t, s.srv), "/p/sunrise/passkeys/register/begin", []byte(`{}`), nil); status != http.StatusUnauthorized || str(out, "error") != "signed_out" {
		t.Errorf("register without session: %d %v", status, out)
	}
}
