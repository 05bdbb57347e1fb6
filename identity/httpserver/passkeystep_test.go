package httpserver_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/account/accounttest"
	"github.com/frontdeskhq/frontdesk/identity/httpserver"
	"github.com/frontdeskhq/frontdesk/identity/onboarding"
	"github.com/frontdeskhq/frontdesk/identity/passkeys/passkeystest"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
)

const stepLanding = "https://ehr.example.org/start"

// newStepSite is an onboarding site (role model, real SMTP) with passkeys
// on and one app, ehr, whose invitees land on stepLanding.
func newStepSite(t *testing.T, engine store.Engine) *onboardingSite {
	t.Helper()
	srv := newTestServer(t)
	ob := accounttest.NewOnboarding(t, storetest.Open(t, engine), accounttest.OnboardingOptions{PublicURL: srv.URL,
		AppURLs: map[string]string{"ehr": stepLanding}})
	pk := passkeystest.NewService(t, ob.Store, ob.Service, ob.Clock.Now)
	srv.serve(t, httpserver.Deps{Accounts: ob.Service, Onboarding: ob.Onboard, DB: ob.Store, Registry: ob.Registry, Passkeys: pk})
	if _, err := ob.Service.CreatePractice(context.Background(), account.NewPractice{Slug: "sunrise", Name: "Practice sunrise",
		OwnerEmail: "owner@sunrise.example.org"}, account.Meta{}); err != nil {
		t.Fatal(err)
	}
	return &onboardingSite{site: &site{t: t, srv: srv.Server, client: newBrowser(t, srv.Server)}, ob: ob}
}

// TestPasskeyStepAfterInvitation: accepting an invitation leads to the offer
// of a passkey; "Not now" (a plain, CSRF-protected form: no JavaScript)
// continues to the app the person was invited to, and adding a passkey there
// works at once (the password just set counts as a fresh login) and then
// continues too.
func TestPasskeyStepAfterInvitation(t *testing.T) {
	tests := []struct {
		name string
		add  bool
	}{{"not now", false}, {"add a passkey", true}}
	for _, engine := range storetest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					s := newStepSite(t, engine)
					if _, err := s.ob.Onboard.Invite(context.Background(), "sunrise", account.Operator(), onboarding.InviteRequest{
						Email: "nina@example.org", Roles: []string{"practitioner"}, App: "ehr"}, account.Meta{}); err != nil {
						t.Fatal(err)
					}
					u, _ := url.Parse(s.mailLink("nina@example.org", 1))
					accept := s.post("/p/sunrise/invite", url.Values{"token": {u.Query().Get("token")},
						"new_password": {newPassword}, "confirm_password": {newPassword}})
					step := "/p/sunrise/add-passkey?next=" + url.QueryEscape(stepLanding)
					if accept.status != http.StatusSeeOther || accept.header.Get("Location") != step {
						t.Fatalf("accept: %d %q", accept.status, accept.header.Get("Location"))
					}
					page := s.get(step)
					expect(t, "step page", page, http.StatusOK, "Add a passkey?", `id="passkey-register"`,
						`data-next="`+stepLanding+`"`, `action="/p/sunrise/add-passkey/continue"`, `name="next" value="`+stepLanding+`"`, "Not now")
					csp := page.header.Get("Content-Security-Policy")
					if !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "form-action 'self' https://ehr.example.org;") ||
						strings.Contains(csp, "unsafe-inline") {
						t.Errorf("step page CSP = %s", csp)
					}
					if !tt.add {
						// Cross-site posts are refused; a foreign destination is ignored.
						evil := s.do(s.client, "POST", "/p/sunrise/add-passkey/continue", url.Values{"next": {stepLanding}},
							map[string]string{"Origin": "https://evil.test", "Sec-Fetch-Site": "cross-site"})
						expect(t, "cross-site not now", evil, http.StatusForbidden)
						if loc := s.post("/p/sunrise/add-passkey/continue", url.Values{"next": {"https://evil.test/"}}).header.Get("Location"); loc != "/p/sunrise/" {
							t.Errorf("foreign next went to %q", loc)
						}
						if loc := s.post("/p/sunrise/add-passkey/continue", url.Values{"next": {"//evil.test/p/sunrise/"}}).header.Get("Location"); loc != "/p/sunrise/" {
							t.Errorf("scheme-relative next went to %q", loc)
						}
						r := s.post("/p/sunrise/add-passkey/continue", url.Values{"next": {stepLanding}})
						if r.status != http.StatusSeeOther || r.header.Get("Location") != stepLanding {
							t.Fatalf("not now: %d %q", r.status, r.header.Get("Location"))
						}
						expect(t, "still signed in", s.get("/p/sunrise/"), http.StatusOK, "nina@example.org")
						return
					}
					a := passkeystest.New(pkOrigin, pkRPID)
					if status, out := s.enrol(s.client, a, "Laptop"); status != http.StatusOK {
						t.Fatalf("enrol on the step: %d %v", status, out)
					}
					if status, out := s.passkeyLogin(newBrowser(t, s.srv), "nina@example.org", a); status != http.StatusOK {
						t.Errorf("log in with the new passkey: %d %v", status, out)
					}
				})
			}
		})
	}
}

// TestPasskeyStepNeedsSession: the step is for a signed-in person only.
func TestPasskeyStepNeedsSession(t *testing.T) {
	s := newStepSite(t, store.SQLite)
	expect(t, "no session", s.get("/p/sunrise/add-passkey"), http.StatusSeeOther, "/p/sunrise/login")
	expect(t, "no session, not now", s.post("/p/sunrise/add-passkey/continue", url.Values{}), http.StatusSeeOther, "/p/sunrise/login")
}

// TestPasskeyStepAfterTheWindow: past passkeys.reauth_window the step no
// longer offers to add a passkey without the password; "Not now" still
// continues.
func TestPasskeyStepAfterTheWindow(t *testing.T) {
	s := newStepSite(t, store.SQLite)
	if _, err := s.ob.Onboard.Invite(context.Background(), "sunrise", account.Operator(), onboarding.InviteRequest{
		Email: "nina@example.org", Roles: []string{"practitioner"}}, account.Meta{}); err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(s.mailLink("nina@example.org", 1))
	accept := s.post("/p/sunrise/invite", url.Values{"token": {u.Query().Get("token")},
		"new_password": {newPassword}, "confirm_password": {newPassword}})
	expect(t, "accept", accept, http.StatusSeeOther, "/p/sunrise/add-passkey?next=")
	s.ob.Clock.Advance(6 * time.Minute)
	page := s.get(accept.header.Get("Location"))
	expect(t, "stale step", page, http.StatusOK, "later from your account page", "Not now")
	if strings.Contains(page.body, `id="passkey-register"`) {
		t.Error("the stale step offers to add a passkey")
	}
	if status, out := s.enrol(s.client, passkeystest.New(pkOrigin, pkRPID), "x"); status != http.StatusForbidden {
		t.Errorf("enrol past the window: %d %v", status, out)
	}
	r := s.post("/p/sunrise/add-passkey/continue", url.Values{"next": {"/p/sunrise/?welcome=1"}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/p/sunrise/?welcome=1" {
		t.Errorf("not now: %d %q", r.status, r.header.Get("Location"))
	}
}
