package httpserver_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/frontdeskhq/frontdesk/identity/app/apptest"
	"github.com/frontdeskhq/frontdesk/identity/roles"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
)

// consoleSite is the whole application (apptest) for the administrator's
// console, which needs the OpenID provider, the role model and the admin
// API's services: two practices, sunrise (owner@sunrise.example, a member
// without roles nobody@, a scheduler clin@) and moon (owner@moon.example),
// everyone with apptest.Password.
type consoleSite struct {
	*apptest.Frontdesk
	sunrise store.Practice
}

func newConsoleSite(t *testing.T, engine store.Engine) *consoleSite {
	t.Helper()
	f := apptest.New(t, apptest.Engine(engine))
	h := &consoleSite{Frontdesk: f, sunrise: f.CreatePractice("sunrise", "owner@sunrise.example")}
	f.CreatePractice("moon", "owner@moon.example")
	f.AddMember("sunrise", "nobody@sunrise.example", "Nora Nobody", nil)
	f.AddMember("sunrise", "clin@sunrise.example", "Cleo Clinician", []string{"scheduler"})
	return h
}

func TestConsole(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			h := newConsoleSite(t, engine)
			clin := h.IDs["clin@sunrise.example"]

			// Lock the scheduler out with failed logins.
			for range 3 {
				h.Browser().Login("sunrise", "clin@sunrise.example", "wrong password entirely")
			}
			if m, _ := h.App.Store.MemberByID(h.Ctx, h.sunrise.ID, clin); m.Status != store.StatusLocked {
				t.Fatalf("scheduler status %s, want locked", m.Status)
			}

			owner := h.Browser()
			if st := owner.Login("sunrise", "owner@sunrise.example", apptest.Password); st != http.StatusSeeOther {
				t.Fatalf("owner login: %d", st)
			}
			if st, loc, _ := owner.Do("GET", "/p/sunrise/admin", nil, false); st != http.StatusSeeOther || loc != "/p/sunrise/admin/members" {
				t.Errorf("console index: %d %s", st, loc)
			}
			st, _, page := owner.Do("GET", "/p/sunrise/admin/members", nil, false)
			if st != 200 || !strings.Contains(page, "Cleo Clinician") || !strings.Contains(page, `badge-locked`) ||
				!strings.Contains(page, "/admin/members/"+clin+"/unlock") || !strings.Contains(page, `<label for="q">`) {
				t.Fatalf("members page: %d\n%s", st, page)
			}
			if _, _, page := owner.Do("GET", "/p/sunrise/admin/members?q=nora", nil, false); !strings.Contains(page, "Nora Nobody") ||
				strings.Contains(page, "Cleo Clinician") {
				t.Errorf("search: %s", page)
			}
			if _, _, page := owner.Do("GET", "/p/sunrise/admin/members?role=scheduler&status=locked", nil, false); !strings.Contains(page, "Cleo Clinician") ||
				strings.Contains(page, "Nora Nobody") {
				t.Errorf("filters: %s", page)
			}

			// Unlock: confirmation, then a cross-origin-protected POST.
			st, _, page = owner.Do("GET", "/p/sunrise/admin/members/"+clin+"/unlock", nil, false)
			if st != 200 || !strings.Contains(page, `method="post"`) || !strings.Contains(page, "clin@sunrise.example") {
				t.Fatalf("unlock confirmation: %d\n%s", st, page)
			}
			if st, _, _ := owner.Do("POST", "/p/sunrise/admin/members/"+clin+"/unlock", url.Values{}, false); st != http.StatusForbidden {
				t.Errorf("unlock without Origin: %d", st)
			}
			if m, _ := h.App.Store.MemberByID(h.Ctx, h.sunrise.ID, clin); m.Status != store.StatusLocked {
				t.Fatalf("refused post changed the status to %s", m.Status)
			}
			st, loc, _ := owner.Do("POST", "/p/sunrise/admin/members/"+clin+"/unlock", url.Values{}, true)
			if st != http.StatusSeeOther || !strings.Contains(loc, "done=unlocked") {
				t.Fatalf("unlock: %d %s", st, loc)
			}
			if m, _ := h.App.Store.MemberByID(h.Ctx, h.sunrise.ID, clin); m.Status != store.StatusActive {
				t.Errorf("after unlock: %s", m.Status)
			}
			if _, _, page := owner.Do("GET", loc, nil, false); !strings.Contains(page, `role="status"`) {
				t.Errorf("no notice after unlock: %s", page)
			}

			// Temporary password.
			if st, _, page := owner.Do("GET", "/p/sunrise/admin/members/"+clin+"/temporary-password", nil, false); st != 200 ||
				!strings.Contains(page, "Email temporary password") {
				t.Errorf("temporary password confirmation: %d", st)
			}
			if st, loc, _ := owner.Do("POST", "/p/sunrise/admin/members/"+clin+"/temporary-password", url.Values{}, true); st != http.StatusSeeOther ||
				!strings.Contains(loc, "done=temporary") {
				t.Errorf("temporary password: %d %s", st, loc)
			}
			if st, _, _ := owner.Do("GET", "/p/sunrise/admin/members/nope/unlock", nil, false); st != 404 {
				t.Errorf("unknown member: %d", st)
			}

			// Invite form.
			if st, _, page := owner.Do("GET", "/p/sunrise/admin/invite", nil, false); st != 200 ||
				!strings.Contains(page, `type="checkbox"`) || !strings.Contains(page, `<legend>Roles</legend>`) {
				t.Errorf("invite form: %d\n%s", st, page)
			}
			st, _, page = owner.Do("POST", "/p/sunrise/admin/invite", url.Values{"email": {"not an address"}, "role": {"scheduler"}}, true)
			if st != 400 || !strings.Contains(page, `role="alert"`) || !strings.Contains(page, `value="scheduler" checked`) {
				t.Errorf("invite with a bad address: %d\n%s", st, page)
			}
			if st, _, page := owner.Do("POST", "/p/sunrise/admin/invite", url.Values{"email": {"nora@sunrise.example"}}, true); st != 400 ||
				!strings.Contains(page, "at least one role") {
				t.Errorf("invite without a role: %d\n%s", st, page)
			}
			if st, loc, _ := owner.Do("POST", "/p/sunrise/admin/invite", url.Values{"email": {"new@sunrise.example"},
				"name": {"Nat New"}, "role": {"scheduler"}}, true); st != http.StatusSeeOther || !strings.Contains(loc, "done=invited") {
				t.Errorf("invite: %d %s", st, loc)
			}
			if _, _, page := owner.Do("GET", "/p/sunrise/admin/members?status=invited", nil, false); !strings.Contains(page, "new@sunrise.example") ||
				!strings.Contains(page, "badge-invited") {
				t.Errorf("invited member not listed: %s", page)
			}

			// Roles and toggles.
			st, _, page = owner.Do("GET", "/p/sunrise/admin/roles", nil, false)
			if st != 200 || !strings.Contains(page, `<details class="section role" id="role-scheduler">`) ||
				!strings.Contains(page, `name="permission" value="schedule.edit:all" checked>`) {
				t.Fatalf("roles page: %d\n%s", st, page)
			}
			if st, _, _ := owner.Do("POST", "/p/sunrise/admin/roles/scheduler", url.Values{"permission": {"members.view:all"}}, false); st != http.StatusForbidden {
				t.Errorf("role save without Origin: %d", st)
			}
			if st, loc, _ := owner.Do("POST", "/p/sunrise/admin/roles/scheduler",
				url.Values{"permission": {"members.view:own", " schedule.view:all", ""}}, true); st != http.StatusSeeOther || !strings.Contains(loc, "done=role") {
				t.Errorf("role save: %d %s", st, loc)
			}
			if m, _ := h.App.Roles.Model(h.Ctx, h.sunrise.ID); !strings.Contains(strings.Join(roleByKey(m.Roles, "scheduler"), " "), "schedule.view:all") ||
				len(roleByKey(m.Roles, "scheduler")) != 2 {
				t.Errorf("scheduler after save: %v", roleByKey(m.Roles, "scheduler"))
			}
			if st, _, page := owner.Do("POST", "/p/sunrise/admin/roles/scheduler", url.Values{"permission": {"no.such.thing"}}, true); st != 400 ||
				!strings.Contains(page, "Nothing was changed") {
				t.Errorf("role save with a bad permission: %d\n%s", st, page)
			}
			if st, _, _ := owner.Do("POST", "/p/sunrise/admin/roles/ghost", url.Values{"permission": {"members.view:own"}}, true); st != 404 {
				t.Errorf("unknown role: %d", st)
			}
			if m, _ := h.App.Roles.Model(h.Ctx, h.sunrise.ID); len(m.Toggles) > 0 {
				tg := m.Toggles[0]
				want := !m.ToggleOn[tg.Key]
				if st, loc, _ := owner.Do("POST", "/p/sunrise/admin/toggles/"+tg.Key, url.Values{"on": {strconv.FormatBool(want)}}, true); st != http.StatusSeeOther ||
					!strings.Contains(loc, "done=toggle") {
					t.Errorf("toggle: %d %s", st, loc)
				}
				if m, _ := h.App.Roles.Model(h.Ctx, h.sunrise.ID); m.ToggleOn[tg.Key] != want {
					t.Errorf("toggle %s is %v, want %v", tg.Key, m.ToggleOn[tg.Key], want)
				}
			}

			// Audit trail, filters and exports.
			st, _, page = owner.Do("GET", "/p/sunrise/admin/audit?action=member.", nil, false)
			if st != 200 || !strings.Contains(page, "member.unlock") || strings.Contains(page, "<td>login</td>") {
				t.Errorf("audit page: %d\n%s", st, page)
			}
			if st, _, body := owner.Do("GET", "/p/sunrise/admin/audit/export?format=csv&action=member.", nil, false); st != 200 ||
				!strings.HasPrefix(body, "id,seq,at,action") || !strings.Contains(body, "member.unlock") {
				t.Errorf("csv export: %d %s", st, body)
			}
			if st, _, body := owner.Do("GET", "/p/sunrise/admin/audit/export?format=jsonl", nil, false); st != 200 ||
				!strings.Contains(body, `"action":"member.unlock"`) {
				t.Errorf("jsonl export: %d", st)
			}
			if st, _, _ := owner.Do("GET", "/p/sunrise/admin/audit/export?format=xml", nil, false); st != 400 {
				t.Errorf("bad export format: %d", st)
			}

			// Without a session: the login page. Without permissions: 403.
			if st, loc, _ := h.Browser().Do("GET", "/p/sunrise/admin/members", nil, false); st != http.StatusSeeOther ||
				loc != "/p/sunrise/login?next=%2Fp%2Fsunrise%2Fadmin%2Fmembers" {
				t.Errorf("anonymous: %d %s", st, loc)
			}
			nobody := h.Browser()
			if st := nobody.Login("sunrise", "nobody@sunrise.example", apptest.Password); st != http.StatusSeeOther {
				t.Fatalf("nobody login: %d", st)
			}
			for _, p := range []string{"/p/sunrise/admin/members", "/p/sunrise/admin/audit", "/p/sunrise/admin/audit/export",
				"/p/sunrise/admin/invite", "/p/sunrise/admin/roles",
				"/p/sunrise/admin/members/" + clin + "/unlock"} {
				if st, _, _ := nobody.Do("GET", p, nil, false); st != http.StatusForbidden {
					t.Errorf("nobody GET %s: %d", p, st)
				}
			}
			if st, _, _ := nobody.Do("POST", "/p/sunrise/admin/roles/scheduler", url.Values{"permission": {"members.view:all"}}, true); st != http.StatusForbidden {
				t.Errorf("nobody POST role: %d", st)
			}
			if st, _, _ := nobody.Do("POST", "/p/sunrise/admin/members/"+clin+"/temporary-password", url.Values{}, true); st != http.StatusForbidden {
				t.Errorf("nobody POST temporary password: %d", st)
			}
			// Another practice's session does not open sunrise's console.
			moon := h.Browser()
			moon.Login("moon", "owner@moon.example", apptest.Password)
			if st, _, _ := moon.Do("GET", "/p/sunrise/admin/members", nil, false); st != http.StatusSeeOther {
				t.Errorf("moon's owner on sunrise's console: %d", st)
			}
		})
	}
}

func roleByKey(rs []roles.Role, key string) []string {
	for _, r := range rs {
		if r.Key == key {
			return r.Permissions
		}
	}
	return nil
}
