package httpserver_test

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/app/apptest"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
)

var removeProviderLink = regexp.MustCompile(`href="/p/sunrise/admin/sign-in/providers/([^/"]+)/remove"`)

// The console's sign-in settings: SSO providers, join requests and the login
// policy, driven like a browser without JavaScript, on both engines.
func TestConsoleSignIn(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			h := newConsoleSite(t, engine)
			owner := h.Browser()
			if st := owner.Login("sunrise", "owner@sunrise.example", apptest.Password); st != http.StatusSeeOther {
				t.Fatalf("owner login: %d", st)
			}
			nobody := h.Browser()
			if st := nobody.Login("sunrise", "nobody@sunrise.example", apptest.Password); st != http.StatusSeeOther {
				t.Fatalf("nobody login: %d", st)
			}
			const page = "/p/sunrise/admin/sign-in"
			const secret = "console-secret-value-0123456789"

			// The nav links the page for settings holders; every input is labelled.
			if _, _, body := owner.Do("GET", "/p/sunrise/admin/members", nil, false); !strings.Contains(body, `href="`+page+`"`) {
				t.Error("members page has no Sign-in link for the owner")
			}
			st, _, body := owner.Do("GET", page, nil, false)
			if st != 200 || !strings.Contains(body, `id="redirect-uri">`+h.URL+`/p/sunrise/sso/callback<`) ||
				!strings.Contains(body, `<th scope="col">`) || strings.Count(body, "<h1") != 1 {
				t.Fatalf("sign-in page: %d\n%s", st, body)
			}
			assertLabelled(t, body)
			for _, want := range []string{`<label for="sso-client-secret">`, `type="password"`, `<label for="strong-scheduler">`,
				`<label for="sso-join-role">`, `<label for="sso-domains">`} {
				if !strings.Contains(body, want) {
					t.Errorf("sign-in page lacks %s", want)
				}
			}

			add := url.Values{"kind": {"entra"}, "tenant": {"72f988bf-86f1-41af-91ab-2d7cd011db47"}, "client_id": {"app-1"},
				"client_secret": {secret}, "allowed_domains": {"sunrise.example, clinic.example"},
				"join_enabled": {"yes"}, "join_role": {"scheduler"}}
			refused := []struct {
				name, path string
				form       url.Values
				origin     bool
				who        *apptest.Browser
			}{
				{"add without Origin", page + "/providers", add, false, owner},
				{"add without settings.edit", page + "/providers", add, true, nobody},
				{"policy without Origin", page + "/policy", url.Values{"strong_role": {"scheduler"}}, false, owner},
				{"policy without settings.edit", page + "/policy", url.Values{"strong_role": {"scheduler"}}, true, nobody},
				{"approve without members.manage", page + "/requests/x/approve", url.Values{}, true, nobody},
				{"remove without settings.edit", page + "/providers/x/remove", url.Values{}, true, nobody},
			}
			for _, tc := range refused {
				if st, _, _ := tc.who.Do("POST", tc.path, tc.form, tc.origin); st != http.StatusForbidden {
					t.Errorf("%s: %d, want 403", tc.name, st)
				}
			}
			if st, _, _ := nobody.Do("GET", page, nil, false); st != http.StatusForbidden {
				t.Errorf("page without settings.view: %d", st)
			}

			// A refused provider keeps the form, never the secret.
			bad := url.Values{"kind": {"generic"}, "issuer": {"http://idp.example"}, "client_id": {"kept-id"}, "client_secret": {secret}}
			st, _, body = owner.Do("POST", page+"/providers", bad, true)
			if st != 400 || !strings.Contains(body, `role="alert"`) || !strings.Contains(body, `value="kept-id"`) || strings.Contains(body, secret) {
				t.Errorf("invalid provider: %d\n%s", st, body)
			}

			// F2: an issuer on a loopback or metadata address is refused with
			// the operator's fix named.
			for _, iss := range []string{"https://127.0.0.1:9260", "https://169.254.169.254/latest/meta-data"} {
				ssrf := url.Values{"kind": {"generic"}, "display_name": {"Internal"}, "issuer": {iss}, "client_id": {"x"}, "client_secret": {secret}}
				st, _, body = owner.Do("POST", page+"/providers", ssrf, true)
				if st != 400 || !strings.Contains(body, "outbound.allowed_ranges") || strings.Contains(body, secret) {
					t.Errorf("issuer %s: %d\n%s", iss, st, body)
				}
			}

			// Add, list (secret never shown), duplicate refused.
			if st, loc, _ := owner.Do("POST", page+"/providers", add, true); st != http.StatusSeeOther || !strings.Contains(loc, "done=added") {
				t.Fatalf("add provider: %d %s", st, loc)
			}
			st, _, body = owner.Do("GET", page, nil, false)
			m := removeProviderLink.FindStringSubmatch(body)
			if st != 200 || m == nil || strings.Contains(body, secret) || !strings.Contains(body, "Microsoft") ||
				!strings.Contains(body, "clinic.example, sunrise.example") || !strings.Contains(body, "on, as Scheduler") ||
				!strings.Contains(body, "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0") {
				t.Fatalf("providers list: %d\n%s", st, body)
			}
			provider := m[1]
			if st, _, body := owner.Do("POST", page+"/providers", add, true); st != 400 || !strings.Contains(body, "already has a provider") {
				t.Errorf("duplicate provider: %d", st)
			}

			// Join requests: approve one, reject another.
			now := time.Now()
			for _, j := range []struct{ id, email string }{{"jr-approve", "joiner@sunrise.example"}, {"jr-reject", "other@sunrise.example"}} {
				if err := h.App.Store.CreateSSOJoinRequest(h.Ctx, store.SSOJoinRequest{ID: j.id, PracticeID: h.sunrise.ID,
					ProviderID: provider, Issuer: "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0",
					Subject: "sub-" + j.id, Email: j.email, Name: "Jo " + j.id, RoleKey: "scheduler", CreatedAt: now}); err != nil {
					t.Fatal(err)
				}
			}
			st, _, body = owner.Do("GET", page, nil, false)
			if st != 200 || !strings.Contains(body, "joiner@sunrise.example") || !strings.Contains(body, page+"/requests/jr-reject/reject") {
				t.Fatalf("join requests: %d\n%s", st, body)
			}
			if st, loc, _ := owner.Do("POST", page+"/requests/jr-approve/approve", url.Values{}, false); st != http.StatusForbidden {
				t.Errorf("approve without Origin: %d %s", st, loc)
			}
			if st, loc, _ := owner.Do("POST", page+"/requests/jr-approve/approve", url.Values{}, true); st != http.StatusSeeOther ||
				!strings.Contains(loc, "done=approved") {
				t.Fatalf("approve: %d %s", st, loc)
			}
			if st, loc, _ := owner.Do("POST", page+"/requests/jr-reject/reject", url.Values{}, true); st != http.StatusSeeOther ||
				!strings.Contains(loc, "done=rejected") {
				t.Fatalf("reject: %d %s", st, loc)
			}
			if st, _, _ := owner.Do("POST", page+"/requests/jr-reject/approve", url.Values{}, true); st != http.StatusNotFound {
				t.Errorf("approve a decided request: %d", st)
			}
			members, _, err := h.App.Store.ListMembers(h.Ctx, store.MemberFilter{PracticeID: h.sunrise.ID, Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			var joined, rejected bool
			for _, mb := range members {
				joined = joined || (mb.Email == "joiner@sunrise.example" && slices.Equal(mb.Roles, []string{"scheduler"}))
				rejected = rejected || mb.Email == "other@sunrise.example"
			}
			if !joined || rejected {
				t.Errorf("after deciding: joined %v, rejected member exists %v", joined, rejected)
			}
			if reqs, _ := h.App.Store.SSOJoinRequests(h.Ctx, h.sunrise.ID, "pending"); len(reqs) != 0 {
				t.Errorf("pending after deciding: %v", reqs)
			}

			// Remove, through the confirmation page.
			rm := page + "/providers/" + provider + "/remove"
			if st, _, body := owner.Do("GET", rm, nil, false); st != 200 || !strings.Contains(body, `action="`+rm+`"`) ||
				!strings.Contains(body, ">Remove provider<") {
				t.Fatalf("remove confirmation: %d\n%s", st, body)
			}
			if st, _, _ := owner.Do("POST", rm, url.Values{}, false); st != http.StatusForbidden {
				t.Errorf("remove without Origin: %d", st)
			}
			if st, loc, _ := owner.Do("POST", rm, url.Values{}, true); st != http.StatusSeeOther || !strings.Contains(loc, "done=removed") {
				t.Fatalf("remove: %d %s", st, loc)
			}
			if ps, _ := h.App.Store.SSOProviders(h.Ctx, h.sunrise.ID); len(ps) != 0 {
				t.Errorf("providers after removing: %v", ps)
			}
			if st, _, _ := owner.Do("POST", rm, url.Values{}, true); st != http.StatusNotFound {
				t.Errorf("remove twice: %d", st)
			}

			// Login policy: saved, shown on reload, and in the domain.
			if st, _, body := owner.Do("POST", page+"/policy", url.Values{"strong_role": {"no_such"}}, true); st != 400 ||
				!strings.Contains(body, `id="policy-error"`) {
				t.Errorf("unknown role in policy: %d\n%s", st, body)
			}
			if st, loc, _ := owner.Do("POST", page+"/policy", url.Values{"strong_role": {"scheduler", "biller"}}, true); st != http.StatusSeeOther ||
				!strings.Contains(loc, "done=policy") {
				t.Fatalf("save policy: %d %s", st, loc)
			}
			st, _, body = owner.Do("GET", page, nil, false)
			if st != 200 || !strings.Contains(body, `value="scheduler" checked`) || !strings.Contains(body, `value="biller" checked`) ||
				!strings.Contains(body, `id="policy-changed"`) || !strings.Contains(body, "Owner sunrise") {
				t.Errorf("policy after saving: %d\n%s", st, body)
			}
			lp, err := h.App.Accounts.LoginPolicy(h.Ctx, "sunrise", account.Operator())
			if err != nil || !slices.Equal(lp.RequireStrongLogin, []string{"biller", "scheduler"}) || lp.UpdatedBy != h.IDs["owner@sunrise.example"] {
				t.Errorf("login policy = %+v, %v", lp, err)
			}
			if st, _, _ := owner.Do("POST", page+"/policy", url.Values{}, true); st != http.StatusSeeOther {
				t.Errorf("clear policy: %d", st)
			}
			if lp, _ := h.App.Accounts.LoginPolicy(h.Ctx, "sunrise", account.Operator()); len(lp.RequireStrongLogin) != 0 {
				t.Errorf("policy after clearing = %v", lp.RequireStrongLogin)
			}

			// Every change is audited by the domain services.
			evs, err := h.App.Store.ListAudit(h.Ctx, h.sunrise.ID, 200)
			if err != nil {
				t.Fatal(err)
			}
			var actions []string
			for _, e := range evs {
				actions = append(actions, e.Action+"/"+e.Outcome)
				for _, v := range e.Details {
					if strings.Contains(v, secret) {
						t.Error("the client secret is in the audit trail")
					}
				}
			}
			for _, want := range []string{"sso.provider.add/success", "sso.join.approved/success",
				"sso.join.rejected/success", "sso.provider.remove/success", "practice.login_policy/success"} {
				if !slices.Contains(actions, want) {
					t.Errorf("audit lacks %s: %v", want, actions)
				}
			}
		})
	}
}

// assertLabelled fails for an input, select or textarea without a label.
func assertLabelled(t *testing.T, body string) {
	t.Helper()
	for _, id := range regexp.MustCompile(`<(?:input|select|textarea) [^>]*id="([^"]+)"`).FindAllStringSubmatch(body, -1) {
		if !strings.Contains(body, `for="`+id[1]+`"`) {
			t.Errorf("input %s has no label", id[1])
		}
	}
	if n := len(regexp.MustCompile(`<(?:input|select|textarea) `).FindAllString(body, -1)); n !=
		len(regexp.MustCompile(`<(?:input|select|textarea) [^>]*id="`).FindAllString(body, -1)) {
		t.Errorf("an input has no id (and so no label)")
	}
}
