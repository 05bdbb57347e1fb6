package httpserver_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/frontdeskhq/frontdesk/identity/app/apptest"
	"github.com/frontdeskhq/frontdesk/identity/store"
)

// On a laptop the members and invitations tables break a long address before
// its "@" (a <wbr> there, and overflow-wrap: break-word for the cell), never
// in the middle of the domain: "bo.biller@demo.exampl|e" was what the walk
// through the console showed at 1280 px.
func TestTablesBreakAddressesAtTheAt(t *testing.T) {
	h := newConsoleSite(t, store.SQLite)
	owner := h.Browser()
	if st := owner.Login("sunrise", "owner@sunrise.example", apptest.Password); st != http.StatusSeeOther {
		t.Fatalf("owner login: %d", st)
	}
	if st, _, _ := owner.Do("POST", "/p/sunrise/admin/invite", url.Values{"email": {"bo.biller@sunrise.example"}, "role": {"biller"}}, true); st != http.StatusSeeOther {
		t.Fatalf("invite: %d", st)
	}
	for _, page := range []string{"/p/sunrise/admin/members", "/p/sunrise/admin/invitations"} {
		_, _, body := owner.Do("GET", page, nil, false)
		if !strings.Contains(body, `class="email">bo.biller<wbr>@sunrise.example</td>`) {
			t.Errorf("%s: the address has no break before its @:\n%s", page, body)
		}
	}
	css := h.Browser()
	if _, _, body := css.Do("GET", "/static/style.css", nil, false); !strings.Contains(body, "td.email { overflow-wrap: break-word; }") {
		t.Error("style.css lets the table cut an address anywhere")
	}
}

// The console's navigation shows sighted people which page they are on, as
// aria-current="page" tells screen readers: the walk's screenshots showed
// seven identical links.
func TestConsoleNavMarksTheCurrentPage(t *testing.T) {
	h := newConsoleSite(t, store.SQLite)
	owner := h.Browser()
	if st := owner.Login("sunrise", "owner@sunrise.example", apptest.Password); st != http.StatusSeeOther {
		t.Fatalf("owner login: %d", st)
	}
	if _, _, body := owner.Do("GET", "/p/sunrise/admin/roles", nil, false); !strings.Contains(body, `<a href="/p/sunrise/admin/roles" aria-current="page">Roles</a>`) {
		t.Fatalf("roles page: the nav does not mark Roles as current:\n%s", body)
	}
	_, _, css := owner.Do("GET", "/static/style.css", nil, false)
	if !strings.Contains(css, `.adminnav a[aria-current="page"] {`) {
		t.Error("style.css does not show the current page in the console's navigation")
	}
}

// A refused app registration is answered on the apps page, whose list of
// registered apps comes first: the form posts to #register, so the browser
// shows the form and its error, not the top of the page (on a phone the
// error was three screens down).
func TestAppRegistrationErrorIsInView(t *testing.T) {
	h := newConsoleSite(t, store.SQLite)
	owner := h.Browser()
	if st := owner.Login("sunrise", "owner@sunrise.example", apptest.Password); st != http.StatusSeeOther {
		t.Fatalf("owner login: %d", st)
	}
	reg := url.Values{"name": {"Local"}, "redirect_uris": {"http://localhost:3000/callback"}, "kind": {"confidential"},
		"grant": {"authorization_code"}}
	st, _, page := owner.Do("POST", "/p/sunrise/admin/apps", reg, true)
	if st != http.StatusBadRequest || !strings.Contains(page, `<h2 id="register">Register an app</h2>`) ||
		!strings.Contains(page, `action="/p/sunrise/admin/apps#register"`) {
		t.Errorf("refused registration: %d\n%s", st, page)
	}
}

// The audit trail names people with their roles ("Bo Park (Biller, Intake
// Coordinator) logged in"), read when the page is shown: the page says so,
// so a reviewer does not take them for the roles held at the time.
func TestAuditPageSaysTheRolesAreTodays(t *testing.T) {
	h := newConsoleSite(t, store.SQLite)
	owner := h.Browser()
	if st := owner.Login("sunrise", "owner@sunrise.example", apptest.Password); st != http.StatusSeeOther {
		t.Fatalf("owner login: %d", st)
	}
	if _, _, page := owner.Do("GET", "/p/sunrise/admin/audit", nil, false); !strings.Contains(page,
		"The roles in brackets after a name are the person's roles now, not when the event happened") {
		t.Errorf("the audit page does not say whose roles it shows:\n%s", page)
	}
}

// Counts read as English: "0 registered apps", "1 registered app", not
// "registered app(s)"; the sign-in page's providers and join requests too.
func TestConsoleCountsArePlural(t *testing.T) {
	h := newConsoleSite(t, store.SQLite)
	owner := h.Browser()
	if st := owner.Login("sunrise", "owner@sunrise.example", apptest.Password); st != http.StatusSeeOther {
		t.Fatalf("owner login: %d", st)
	}
	if _, _, page := owner.Do("GET", "/p/sunrise/admin/apps", nil, false); !strings.Contains(page, ">0 registered apps</caption>") {
		t.Errorf("apps page without apps:\n%s", page)
	}
	reg := url.Values{"name": {"Notes"}, "redirect_uris": {"https://notes.example/callback"}, "kind": {"confidential"},
		"grant": {"authorization_code"}}
	if st, _, page := owner.Do("POST", "/p/sunrise/admin/apps", reg, true); st != http.StatusCreated {
		t.Fatalf("register: %d\n%s", st, page)
	}
	if _, _, page := owner.Do("GET", "/p/sunrise/admin/apps", nil, false); !strings.Contains(page, ">1 registered app</caption>") {
		t.Errorf("apps page with one app:\n%s", page)
	}
	_, _, page := owner.Do("GET", "/p/sunrise/admin/sign-in", nil, false)
	if !strings.Contains(page, ">0 providers</caption>") || !strings.Contains(page, ">0 pending requests</caption>") || strings.Contains(page, "(s)") {
		t.Errorf("sign-in page counts:\n%s", page)
	}
}
