package httpserver_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2/clientcredentials"

	"github.com/frontdeskhq/frontdesk/identity/app/apptest"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
)

var (
	shownClientID = regexp.MustCompile(`<code id="client-id">([^<]+)</code>`)
	shownSecret   = regexp.MustCompile(`id="client-secret" value="([^"]+)"`)
)

// The console's member page, invitations, role creation and apps, driven
// like a browser without JavaScript.
func TestConsoleManagement(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			h := newConsoleSite(t, engine)
			clin := h.IDs["clin@sunrise.example"]
			owner := h.Browser()
			if st := owner.Login("sunrise", "owner@sunrise.example", apptest.Password); st != http.StatusSeeOther {
				t.Fatalf("owner login: %d", st)
			}
			nobody := h.Browser()
			if st := nobody.Login("sunrise", "nobody@sunrise.example", apptest.Password); st != http.StatusSeeOther {
				t.Fatalf("nobody login: %d", st)
			}

			// The account page links administrators to the console only.
			if _, _, page := owner.Do("GET", "/p/sunrise/", nil, false); !strings.Contains(page, `id="admin-link"`) ||
				!strings.Contains(page, `href="/p/sunrise/admin/members"`) {
				t.Errorf("owner's account page has no console link:\n%s", page)
			}
			if _, _, page := nobody.Do("GET", "/p/sunrise/", nil, false); strings.Contains(page, `id="admin-link"`) {
				t.Error("a member without administrative permissions sees the console link")
			}

			// Member page: roles are assigned and unassigned with checkboxes.
			st, _, page := owner.Do("GET", "/p/sunrise/admin/members/"+clin, nil, false)
			if st != 200 || !strings.Contains(page, `<label for="role-scheduler">`) || !strings.Contains(page, `value="scheduler" checked`) ||
				!strings.Contains(page, "/admin/members/"+clin+"/deactivate") {
				t.Fatalf("member page: %d\n%s", st, page)
			}
			if st, _, _ := nobody.Do("GET", "/p/sunrise/admin/members/"+clin, nil, false); st != http.StatusForbidden {
				t.Errorf("member page without members.view:all: %d", st)
			}
			form := url.Values{"role": {"scheduler", "biller"}}
			if st, _, _ := owner.Do("POST", "/p/sunrise/admin/members/"+clin+"/roles", form, false); st != http.StatusForbidden {
				t.Errorf("roles without Origin: %d", st)
			}
			if st, loc, _ := owner.Do("POST", "/p/sunrise/admin/members/"+clin+"/roles", form, true); st != http.StatusSeeOther ||
				!strings.Contains(loc, "done=roles") {
				t.Fatalf("assign roles: %d %s", st, loc)
			}
			if m, _ := h.App.Store.MemberByID(h.Ctx, h.sunrise.ID, clin); !slices.Equal(m.Roles, []string{"biller", "scheduler"}) {
				t.Errorf("roles after assigning = %v", m.Roles)
			}
			if st, _, _ := owner.Do("POST", "/p/sunrise/admin/members/"+clin+"/roles", url.Values{"role": {"biller"}}, true); st != http.StatusSeeOther {
				t.Errorf("unassign: %d", st)
			}
			if m, _ := h.App.Store.MemberByID(h.Ctx, h.sunrise.ID, clin); !slices.Equal(m.Roles, []string{"biller"}) {
				t.Errorf("roles after unassigning = %v", m.Roles)
			}
			if st, _, page := owner.Do("POST", "/p/sunrise/admin/members/"+clin+"/roles", url.Values{"role": {"no_such"}}, true); st != 400 ||
				!strings.Contains(page, `role="alert"`) {
				t.Errorf("unknown role: %d\n%s", st, page)
			}
			if st, _, _ := nobody.Do("POST", "/p/sunrise/admin/members/"+clin+"/roles", form, true); st != http.StatusForbidden {
				t.Errorf("roles without roles.assign: %d", st)
			}

			// Profile: one line of plain text.
			if st, _, page := owner.Do("POST", "/p/sunrise/admin/members/"+clin+"/profile", url.Values{"display_name": {"Cleo\nAdmin"}}, true); st != 400 ||
				!strings.Contains(page, "line breaks") {
				t.Errorf("display name with a line break: %d\n%s", st, page)
			}
			if st, loc, _ := owner.Do("POST", "/p/sunrise/admin/members/"+clin+"/profile", url.Values{"display_name": {"Cleo C."}}, true); st != http.StatusSeeOther ||
				!strings.Contains(loc, "done=profile") {
				t.Errorf("display name: %d %s", st, loc)
			}
			if m, _ := h.App.Store.MemberByID(h.Ctx, h.sunrise.ID, clin); m.DisplayName != "Cleo C." {
				t.Errorf("display name = %q", m.DisplayName)
			}
			if st, _, _ := nobody.Do("POST", "/p/sunrise/admin/members/"+clin+"/profile", url.Values{"display_name": {"X"}}, true); st != http.StatusForbidden {
				t.Errorf("profile without members.manage: %d", st)
			}

			// Deactivate and reactivate, each confirmed first.
			for _, step := range []struct{ action, confirm, status string }{
				{"deactivate", "Deactivate", "deactivated"},
				{"reactivate", "Reactivate", "active"},
			} {
				p := "/p/sunrise/admin/members/" + clin + "/" + step.action
				if st, _, page := owner.Do("GET", p, nil, false); st != 200 || !strings.Contains(page, `action="`+p+`"`) ||
					!strings.Contains(page, ">"+step.confirm+"<") {
					t.Fatalf("%s confirmation: %d\n%s", step.action, st, page)
				}
				if st, loc, _ := owner.Do("POST", p, url.Values{}, true); st != http.StatusSeeOther || !strings.Contains(loc, "done=") {
					t.Fatalf("%s: %d %s", step.action, st, loc)
				}
				if m, _ := h.App.Store.MemberByID(h.Ctx, h.sunrise.ID, clin); string(m.Status) != step.status {
					t.Errorf("after %s: %s", step.action, m.Status)
				}
			}
			if st, _, _ := owner.Do("POST", "/p/sunrise/admin/members/"+clin+"/reactivate", url.Values{}, true); st != http.StatusConflict {
				t.Errorf("reactivating an active member: %d", st)
			}
			// Passkeys are off in this harness: no revocation page.
			if st, _, _ := owner.Do("GET", "/p/sunrise/admin/members/"+clin+"/revoke-passkeys", nil, false); st == 200 {
				t.Error("a passkey revocation page without passkeys")
			}

			// Invitations: resend and revoke.
			if st, _, _ := owner.Do("POST", "/p/sunrise/admin/invite", url.Values{"email": {"inv@sunrise.example"}, "role": {"scheduler"}}, true); st != http.StatusSeeOther {
				t.Fatalf("invite: %d", st)
			}
			st, _, page = owner.Do("GET", "/p/sunrise/admin/invitations", nil, false)
			m := regexp.MustCompile(`/admin/invitations/([^/"]+)/resend`).FindStringSubmatch(page)
			if st != 200 || m == nil || !strings.Contains(page, "inv@sunrise.example") || !strings.Contains(page, `<th scope="col">`) {
				t.Fatalf("invitations page: %d\n%s", st, page)
			}
			inv := m[1]
			if st, loc, _ := owner.Do("POST", "/p/sunrise/admin/invitations/"+inv+"/resend", url.Values{}, true); st != http.StatusSeeOther ||
				!strings.Contains(loc, "done=resent") {
				t.Errorf("resend: %d %s", st, loc)
			}
			if st, _, page := owner.Do("GET", "/p/sunrise/admin/invitations/"+inv+"/revoke", nil, false); st != 200 || !strings.Contains(page, "Revoke invitation") {
				t.Errorf("revoke confirmation: %d", st)
			}
			if st, _, _ := owner.Do("POST", "/p/sunrise/admin/invitations/"+inv+"/revoke", url.Values{}, true); st != http.StatusSeeOther {
				t.Errorf("revoke: %d", st)
			}
			if st, _, _ := owner.Do("POST", "/p/sunrise/admin/invitations/"+inv+"/revoke", url.Values{}, true); st != http.StatusConflict {
				t.Errorf("revoke twice: %d", st)
			}
			// A revoked (or accepted) invitation shows no expiry: it no
			// longer applies. An open one does.
			owner.Do("POST", "/p/sunrise/admin/invite", url.Values{"email": {"open@sunrise.example"}, "role": {"scheduler"}}, true)
			_, _, page = owner.Do("GET", "/p/sunrise/admin/invitations", nil, false)
			expires := func(email string) string {
				row := page[strings.Index(page, email):]
				row = row[strings.Index(row, `data-label="Expires">`)+len(`data-label="Expires">`):]
				return row[:strings.Index(row, "</td>")]
			}
			if got := expires("inv<wbr>@sunrise.example"); strings.Contains(got, "20") || !strings.Contains(got, "no longer applies") {
				t.Errorf("a revoked invitation shows an expiry: %q", got)
			}
			if got := expires("open<wbr>@sunrise.example"); !regexp.MustCompile(`^\d{1,2} [A-Z][a-z]{2} \d{4} \d\d:\d\d `).MatchString(got) {
				t.Errorf("an open invitation shows no expiry: %q", got)
			}
			if st, _, _ := nobody.Do("GET", "/p/sunrise/admin/invitations", nil, false); st != http.StatusForbidden {
				t.Errorf("invitations without members.manage: %d", st)
			}

			// Creating a role.
			role := url.Values{"key": {"front_desk"}, "name": {"Front desk"}, "permission": {"members.view:all", "accounts.unlock", ""}}
			if st, loc, _ := owner.Do("POST", "/p/sunrise/admin/roles", role, true); st != http.StatusSeeOther || !strings.Contains(loc, "done=created") {
				t.Fatalf("create role: %d %s", st, loc)
			}
			if st, _, _ := owner.Do("POST", "/p/sunrise/admin/roles", role, true); st != http.StatusConflict {
				t.Errorf("create the role twice: %d", st)
			}
			role.Set("key", "bad")
			role.Set("permission", "no.such")
			if st, _, page := owner.Do("POST", "/p/sunrise/admin/roles", role, true); st != 400 || !strings.Contains(page, `value="bad"`) {
				t.Errorf("role with an unknown permission: %d", st)
			}
			if _, _, page := owner.Do("GET", "/p/sunrise/admin/roles", nil, false); !strings.Contains(page, "Front desk") ||
				!strings.Contains(page, `<label for="new-key">`) {
				t.Errorf("roles page after creating:\n%s", page)
			}

			// Apps: register (the secret is shown once), rotate, remove.
			if st, _, _ := nobody.Do("GET", "/p/sunrise/admin/apps", nil, false); st != http.StatusForbidden {
				t.Errorf("apps without settings.view: %d", st)
			}
			reg := url.Values{"name": {"Billing back end"}, "redirect_uris": {"https://billing.example/cb\n"}, "kind": {"confidential"},
				"grant": {"authorization_code", "client_credentials"}}
			st, _, page = owner.Do("POST", "/p/sunrise/admin/apps", reg, true)
			idm, secm := shownClientID.FindStringSubmatch(page), shownSecret.FindStringSubmatch(page)
			if st != http.StatusCreated || idm == nil || secm == nil {
				t.Fatalf("register app: %d\n%s", st, page)
			}
			clientID, secret := html.UnescapeString(idm[1]), html.UnescapeString(secm[1])
			cc := &clientcredentials.Config{ClientID: clientID, ClientSecret: secret, TokenURL: h.RP().Endpoint().TokenURL}
			if _, err := cc.Token(h.Ctx); err != nil {
				t.Errorf("the shown secret does not work: %v", err)
			}
			if _, _, page := owner.Do("GET", "/p/sunrise/admin/apps", nil, false); !strings.Contains(page, clientID) || strings.Contains(page, secret) {
				t.Errorf("apps list:\n%s", page)
			}
			bad := url.Values{"name": {"X"}, "redirect_uris": {"https://*.example/cb"}, "kind": {"public"}, "grant": {"authorization_code"}}
			if st, _, page := owner.Do("POST", "/p/sunrise/admin/apps", bad, true); st != 400 || !strings.Contains(page, "wildcards") ||
				!strings.Contains(page, `id="kind-public" name="kind" value="public" checked`) {
				t.Errorf("wildcard redirect URI: %d\n%s", st, page)
			}
			if st, _, page := owner.Do("GET", "/p/sunrise/admin/apps/"+clientID+"/rotate", nil, false); st != 200 || !strings.Contains(page, "Rotate secret") {
				t.Errorf("rotate confirmation: %d", st)
			}
			st, _, page = owner.Do("POST", "/p/sunrise/admin/apps/"+clientID+"/rotate", url.Values{}, true)
			secm = shownSecret.FindStringSubmatch(page)
			if st != 200 || secm == nil || html.UnescapeString(secm[1]) == secret {
				t.Fatalf("rotate: %d\n%s", st, page)
			}
			if _, err := cc.Token(h.Ctx); err == nil {
				t.Error("the old secret still works after rotating in the console")
			}
			cc.ClientSecret = html.UnescapeString(secm[1])
			if _, err := cc.Token(h.Ctx); err != nil {
				t.Errorf("the new secret does not work: %v", err)
			}
			if st, _, _ := owner.Do("POST", "/p/sunrise/admin/apps/"+clientID+"/remove", url.Values{}, false); st != http.StatusForbidden {
				t.Errorf("remove without Origin: %d", st)
			}
			if st, loc, _ := owner.Do("POST", "/p/sunrise/admin/apps/"+clientID+"/remove", url.Values{}, true); st != http.StatusSeeOther ||
				!strings.Contains(loc, "done=removed") {
				t.Fatalf("remove: %d %s", st, loc)
			}
			if _, err := cc.Token(h.Ctx); err == nil {
				t.Error("a removed app still gets tokens")
			}
			if st, _, _ := owner.Do("GET", "/p/sunrise/admin/apps/"+clientID+"/remove", nil, false); st != http.StatusNotFound {
				t.Errorf("removing a removed app: %d", st)
			}
			if _, err := h.App.Store.AppByClientID(h.Ctx, clientID); err == nil {
				t.Error("the removed app is still registered")
			}
		})
	}
}
