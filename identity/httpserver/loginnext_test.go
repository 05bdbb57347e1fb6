package httpserver_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/frontdeskhq/frontdesk/identity/passkeys/passkeystest"
	"github.com/frontdeskhq/frontdesk/identity/store"
)

// A link to a page of the practice followed without a session (the "Review and unlock" link of
// a lockout mail, the member link of an acceptance mail) leads to the login
// page and, once logged in, to that page, not to the account page. Only the
// practice's own pages are returned to; anything else lands on the account
// page.
func TestLoginReturnsToThePageAsked(t *testing.T) {
	s := newSite(t, store.SQLite)
	s.activate()
	if r := s.post("/p/sunrise/logout", url.Values{}); r.status != http.StatusSeeOther {
		t.Fatalf("logout: %d", r.status)
	}

	const page = "/p/sunrise/password?from=mail"
	r := s.get(page)
	want := "/p/sunrise/login?next=" + url.QueryEscape(page)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != want {
		t.Fatalf("a page without a session: %d %q, want %q", r.status, r.header.Get("Location"), want)
	}
	// The account page itself needs no next.
	if r := s.get("/p/sunrise/"); r.header.Get("Location") != "/p/sunrise/login" {
		t.Errorf("account page without a session: %q", r.header.Get("Location"))
	}
	login := s.get(want)
	if login.status != http.StatusOK || !strings.Contains(login.body, `name="next" value="/p/sunrise/password?from=mail"`) {
		t.Fatalf("login page does not carry next: %d\n%s", login.status, login.body)
	}
	// A wrong password keeps it.
	r = s.post("/p/sunrise/login", url.Values{"email": {"olive@example.org"}, "password": {"not the password at all"}, "next": {page}})
	if r.status != http.StatusUnauthorized || !strings.Contains(r.body, `name="next" value="/p/sunrise/password?from=mail"`) {
		t.Errorf("failed login lost next: %d", r.status)
	}
	r = s.post("/p/sunrise/login", url.Values{"email": {"olive@example.org"}, "password": {goodPassword}, "next": {page}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != page {
		t.Fatalf("login with next: %d %q, want %q", r.status, r.header.Get("Location"), page)
	}
	// Signed in already (the login done in another tab): the login page
	// sends the browser straight on.
	if r := s.get(want); r.status != http.StatusSeeOther || r.header.Get("Location") != page {
		t.Errorf("login page with next, signed in: %d %q, want %q", r.status, r.header.Get("Location"), page)
	}

	for _, next := range []string{"https://evil.example/p/sunrise/", "//evil.example/p/sunrise/", "/p/sunrise//evil.example",
		"/p/sunrise/\\evil.example", "/p/other/admin", "/p/sunrisex/admin", "/elsewhere",
		"/p/sunrise/../other/admin", "/p/sunrise/%2e%2e/other/admin", "/p/sunrise/%2E./other/admin", "/p/sunrise/./admin"} {
		b := newBrowser(t, s.srv)
		if l := s.do(b, "GET", "/p/sunrise/login?next="+url.QueryEscape(next), nil, nil); strings.Contains(l.body, `name="next"`) {
			t.Errorf("login page carries foreign next %q", next)
		}
		r := s.do(b, "POST", "/p/sunrise/login", url.Values{"email": {"olive@example.org"}, "password": {goodPassword}, "next": {next}}, nil)
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "/p/sunrise/" {
			t.Errorf("login with next %q went to %q, want the account page", next, r.header.Get("Location"))
		}
	}
}

// A passkey login from a login page opened for a practice's page returns
// there too (passkeys.js sends the page's next with the ceremony); a foreign
// next lands on the account page.
func TestPasskeyLoginReturnsToThePageAsked(t *testing.T) {
	s := newPasskeySite(t, store.SQLite)
	s.activate()
	a := passkeystest.New(pkOrigin, pkRPID)
	if status, out := s.enrol(s.client, a, "Front desk laptop"); status != http.StatusOK {
		t.Fatalf("enrol: %d %v", status, out)
	}
	const page = "/p/sunrise/passkeys?from=mail"
	b := newBrowser(t, s.srv)
	login := s.do(b, "GET", "/p/sunrise/login?next="+url.QueryEscape(page), nil, nil)
	if !strings.Contains(login.body, `data-next="/p/sunrise/passkeys?from=mail"`) {
		t.Fatalf("the passkey button does not carry next:\n%s", login.body)
	}
	if js := s.get("/static/passkeys.js"); !strings.Contains(js.body, `"&next=" + encodeURIComponent(login.dataset.next)`) {
		t.Error("passkeys.js does not send next")
	}
	for next, want := range map[string]string{page: page, "https://evil.example/": "/p/sunrise/"} {
		b := newBrowser(t, s.srv)
		in, _ := json.Marshal(map[string]string{"email": ""})
		status, begin := s.postJSON(b, "/p/sunrise/passkeys/login/begin", in, nil)
		if status != http.StatusOK {
			t.Fatalf("login begin: %d %v", status, begin)
		}
		q := url.Values{"ceremony": {str(begin, "ceremony")}, "next": {next}}
		status, out := s.postJSON(b, "/p/sunrise/passkeys/login/finish?"+q.Encode(), a.Get(begin["options"]), nil)
		if status != http.StatusOK || str(out, "redirect") != want {
			t.Errorf("passkey login with next %q: %d %v, want %q", next, status, out, want)
		}
	}
}
