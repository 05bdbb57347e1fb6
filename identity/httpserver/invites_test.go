package httpserver_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/account/accounttest"
	"github.com/frontdeskhq/frontdesk/identity/httpserver"
	"github.com/frontdeskhq/frontdesk/identity/onboarding"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
)

// onboardingSite is a running frontdesk whose mail goes through the outbox
// to a real SMTP server.
type onboardingSite struct {
	*site
	ob *accounttest.Onboarding
}

func newOnboardingSite(t *testing.T, engine store.Engine) *onboardingSite {
	t.Helper()
	return newOnboardingSiteWith(t, engine, accounttest.OnboardingOptions{})
}

// newOnboardingSiteWith is newOnboardingSite with options for the account
// service (PublicURL is set to the test server's).
func newOnboardingSiteWith(t *testing.T, engine store.Engine, opts accounttest.OnboardingOptions) *onboardingSite {
	t.Helper()
	srv := newTestServer(t)
	opts.PublicURL = srv.URL
	ob := accounttest.NewOnboarding(t, storetest.Open(t, engine), opts)
	srv.serve(t, httpserver.Deps{
		Accounts: ob.Service, Onboarding: ob.Onboard, DB: ob.Store, Registry: ob.Registry})
	ctx := context.Background()
	for _, slug := range []string{"sunrise", "harbor"} {
		created, err := ob.Service.CreatePractice(ctx, account.NewPractice{Slug: slug, Name: "Practice " + slug,
			OwnerEmail: "owner@" + slug + ".example.org"}, account.Meta{})
		if err != nil {
			t.Fatal(err)
		}
		tok := created.SetupURL[strings.Index(created.SetupURL, "token=")+6:]
		if _, _, err := ob.Service.CompleteSetup(ctx, slug, tok, goodPassword, goodPassword, account.Meta{}); err != nil {
			t.Fatal(err)
		}
	}
	return &onboardingSite{site: &site{t: t, srv: srv.Server, client: newBrowser(t, srv.Server)}, ob: ob}
}

// mailLink waits for the n-th message to addr and returns the link that
// stands alone on a line of its text part.
func (s *onboardingSite) mailLink(addr string, n int) string {
	s.t.Helper()
	text := s.mailText(addr, n)
	for line := range strings.Lines(text) {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, s.srv.URL+"/p/") {
			return line
		}
	}
	s.t.Fatalf("no link in:\n%s", text)
	return ""
}

func (s *onboardingSite) mailText(addr string, n int) string {
	s.t.Helper()
	text, err := s.ob.SMTP.WaitTo(addr, n).Part("text/plain")
	if err != nil {
		s.t.Fatal(err)
	}
	return text
}

func expect(t *testing.T, what string, r response, status int, contains ...string) {
	t.Helper()
	if r.status != status {
		t.Errorf("%s: status %d, want %d\n%s", what, r.status, status, r.body)
	}
	for _, c := range contains {
		if !strings.Contains(r.body, c) && !strings.Contains(r.header.Get("Location"), c) {
			t.Errorf("%s: response lacks %q (Location %q)", what, c, r.header.Get("Location"))
		}
	}
}

const newPassword = "quiet copper meadow ninety"

func TestInvitationPagesEndToEnd(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			s := newOnboardingSite(t, engine)
			if _, err := s.ob.Onboard.Invite(context.Background(), "sunrise", account.Operator(), onboarding.InviteRequest{
				Email: "nina@example.org", Roles: []string{"practitioner", "supervisor"}}, account.Meta{}); err != nil {
				t.Fatal(err)
			}
			link := s.mailLink("nina@example.org", 1)
			u, _ := url.Parse(link)
			// Opening it many times consumes nothing.
			for range 3 {
				expect(t, "open invitation", s.get(u.RequestURI()), http.StatusOK, `name="new_password"`, "nina@example.org", "Supervisor")
			}
			form := url.Values{"token": {u.Query().Get("token")}, "new_password": {newPassword}, "confirm_password": {"different"}}
			expect(t, "mismatch", s.post("/p/sunrise/invite", form), http.StatusBadRequest, "not the same")
			form.Set("confirm_password", newPassword)
			expect(t, "accept", s.post("/p/sunrise/invite", form), http.StatusSeeOther, "/p/sunrise/")
			expect(t, "home after accepting", s.get("/p/sunrise/"), http.StatusOK, "nina@example.org")
			// Replayed and cross-practice links get a clear page.
			expect(t, "replayed", s.get(u.RequestURI()), http.StatusGone, "can&#39;t be used", "new invitation")
			expect(t, "replayed post", s.post("/p/sunrise/invite", form), http.StatusGone, "can&#39;t be used")
			expect(t, "cross-practice", s.get("/p/harbor/invite?token="+url.QueryEscape(u.Query().Get("token"))), http.StatusGone, "can&#39;t be used")
			expect(t, "no token", s.get("/p/sunrise/invite"), http.StatusGone)
		})
	}
}

func TestTemporaryPasswordPagesEndToEnd(t *testing.T) {
	s := newOnboardingSite(t, store.SQLite)
	owner := "owner@sunrise.example.org"
	if _, err := s.ob.Onboard.IssueTemporaryPassword(context.Background(), "sunrise", account.Operator(), owner, account.Meta{}); err != nil {
		t.Fatal(err)
	}
	temp := ""
	for line := range strings.Lines(s.mailText(owner, 1)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "Temporary password: "); ok {
			temp = v
		}
	}
	if temp == "" {
		t.Fatal("no temporary password in the mail")
	}
	expect(t, "login with the temporary password", s.post("/p/sunrise/login", url.Values{"email": {owner}, "password": {temp}}),
		http.StatusSeeOther, "/p/sunrise/new-password")
	// Nothing but the set-new-password page works.
	expect(t, "home", s.get("/p/sunrise/"), http.StatusSeeOther, "/p/sunrise/new-password")
	expect(t, "change password page", s.get("/p/sunrise/password"), http.StatusSeeOther, "/p/sunrise/new-password")
	expect(t, "new-password page", s.get("/p/sunrise/new-password"), http.StatusOK, "temporary password", `name="new_password"`)
	expect(t, "same as temporary", s.post("/p/sunrise/new-password", url.Values{"new_password": {temp}, "confirm_password": {temp}}),
		http.StatusBadRequest, "different from the temporary")
	expect(t, "set new", s.post("/p/sunrise/new-password", url.Values{"new_password": {newPassword}, "confirm_password": {newPassword}}),
		http.StatusSeeOther, "/p/sunrise/")
	expect(t, "home after", s.get("/p/sunrise/"), http.StatusOK, owner)
	expect(t, "new-password page after", s.get("/p/sunrise/new-password"), http.StatusSeeOther, "/p/sunrise/")
}

func TestForgotPasswordPagesEndToEnd(t *testing.T) {
	s := newOnboardingSite(t, store.SQLite)
	owner := "owner@sunrise.example.org"
	expect(t, "login page", s.get("/p/sunrise/login"), http.StatusOK, `href="/p/sunrise/forgot"`, "Forgot your password?")
	expect(t, "forgot page", s.get("/p/sunrise/forgot"), http.StatusOK, `name="email"`)
	unknown := s.post("/p/sunrise/forgot", url.Values{"email": {"nobody@example.org"}})
	known := s.post("/p/sunrise/forgot", url.Values{"email": {owner}})
	expect(t, "unknown address", unknown, http.StatusOK, "Check your email")
	expect(t, "known address", known, http.StatusOK, "Check your email")
	strip := func(b string) string { // the per-request CSP nonce differs
		if i := strings.Index(b, "<main"); i >= 0 {
			return b[i:]
		}
		return b
	}
	if strip(unknown.body) != strip(known.body) {
		t.Error("the answer differs for a known and an unknown address")
	}
	expect(t, "bad address", s.post("/p/sunrise/forgot", url.Values{"email": {"not an address"}}), http.StatusBadRequest, "not a valid email")
	link := s.mailLink(owner, 1)
	u, _ := url.Parse(link)
	if u.Path != "/p/sunrise/reset" {
		t.Fatalf("link %s", link)
	}
	expect(t, "reset page", s.get(u.RequestURI()), http.StatusOK, owner)
	// The browser was signed in before (the reset ends that session too).
	expect(t, "login before the reset", s.post("/p/sunrise/login", url.Values{"email": {owner}, "password": {goodPassword}}),
		http.StatusSeeOther, "/p/sunrise/")
	form := url.Values{"token": {u.Query().Get("token")}, "new_password": {newPassword}, "confirm_password": {newPassword}}
	// F8: a reset signs nobody in. It sends the person to the login page
	// with a notice, setting no session cookie (and clearing the old one).
	reset := s.post("/p/sunrise/reset", form)
	expect(t, "reset", reset, http.StatusSeeOther, "/p/sunrise/login?reset=1")
	for _, c := range (&http.Response{Header: reset.header}).Cookies() {
		if c.Name == httpserver.SessionCookie && c.Value != "" {
			t.Errorf("the reset set a session cookie")
		}
	}
	expect(t, "home after the reset", s.get("/p/sunrise/"), http.StatusSeeOther, "/p/sunrise/login")
	expect(t, "login page after the reset", s.get("/p/sunrise/login?reset=1"), http.StatusOK,
		"Your password was changed. Sign in with your new password.")
	expect(t, "old password", s.post("/p/sunrise/login", url.Values{"email": {owner}, "password": {goodPassword}}),
		http.StatusUnauthorized)
	expect(t, "login with the new password", s.post("/p/sunrise/login", url.Values{"email": {owner}, "password": {newPassword}}),
		http.StatusSeeOther, "/p/sunrise/")
	expect(t, "home", s.get("/p/sunrise/"), http.StatusOK, owner)
	expect(t, "replayed", s.get(u.RequestURI()), http.StatusGone, "can&#39;t be used", "/p/sunrise/forgot")
	if len(s.ob.SMTP.To("nobody@example.org")) != 0 {
		t.Error("mail sent to an unknown address")
	}
}
