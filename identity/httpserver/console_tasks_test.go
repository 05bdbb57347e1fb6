package httpserver_test

import (
	"html"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/app/apptest"
	"github.com/frontdeskhq/frontdesk/identity/roles"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
)

// supervisionStaff adds a supervisor, a practitioner they supervise and an
// administrator to the harness's sunrise practice (sessions preset).
func supervisionStaff(t *testing.T, h *consoleSite) (sup, pat, adm string) {
	t.Helper()
	h.AddMember("sunrise", "sam@sunrise.example", "Sam Supervisor", []string{"practitioner", "supervisor"})
	h.AddMember("sunrise", "pat@sunrise.example", "Pat Practitioner", []string{"practitioner"})
	h.AddMember("sunrise", "ada@sunrise.example", "Ada Admin", []string{"administrator"})
	sup, pat, adm = h.IDs["sam@sunrise.example"], h.IDs["pat@sunrise.example"], h.IDs["ada@sunrise.example"]
	if err := h.App.Roles.SetSupervisors(h.Ctx, roles.Actor{PracticeID: h.sunrise.ID, MemberID: h.IDs["owner@sunrise.example"]}, pat,
		[]roles.SupervisorLink{{SupervisorID: sup, CosignNotes: true, CosignTreatmentPlans: true}}, roles.Meta{}); err != nil {
		t.Fatal(err)
	}
	return sup, pat, adm
}

// header is the response header name of a GET of path.
func (h *consoleSite) header(t *testing.T, b *apptest.Browser, path, name string) string {
	t.Helper()
	resp, err := b.Client.Get(h.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.Header.Get(name)
}

// Issue 18 point 2: the members list filters by several roles ("Select
// all" is no filter; ticked roles win over it), names roles, labels
// supervisees with their supervisor, and offers only actions that work.
func TestConsoleMembersList(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			h := newConsoleSite(t, engine)
			sup, pat, _ := supervisionStaff(t, h)
			for range 3 {
				h.Browser().Login("sunrise", "sam@sunrise.example", "wrong password entirely")
			}
			owner := h.Browser()
			if st := owner.Login("sunrise", "owner@sunrise.example", apptest.Password); st != http.StatusSeeOther {
				t.Fatalf("owner login: %d", st)
			}
			// The console's home shows administrators the practice's
			// permanent login address to share (seed 002).
			if _, _, page := owner.Do("GET", "/p/sunrise/admin/members", nil, false); !strings.Contains(page,
				`<code class="loginurl" id="login-url">`+h.URL+`/p/sunrise/login</code>`) {
				t.Errorf("members page without the practice's login address")
			}
			everyone := []string{"Sam Supervisor", "Pat Practitioner", "Ada Admin", "Cleo Clinician", "Nora Nobody"}
			for _, tt := range []struct {
				name, query string
				want        []string
			}{
				{"fresh list", "", everyone},
				{"select all", "?all=1", everyone},
				{"one role", "?role=scheduler", []string{"Cleo Clinician"}},
				{"two roles", "?role=scheduler&role=supervisor", []string{"Cleo Clinician", "Sam Supervisor"}},
				{"role ticked with select all", "?all=1&role=administrator", []string{"Ada Admin"}},
				{"unknown role ignored", "?role=no_such", everyone},
				{"role and search", "?role=practitioner&q=pat", []string{"Pat Practitioner"}},
				{"role and status", "?role=practitioner&status=locked", []string{"Sam Supervisor"}},
			} {
				st, _, page := owner.Do("GET", "/p/sunrise/admin/members"+tt.query, nil, false)
				if st != 200 {
					t.Fatalf("%s: %d", tt.name, st)
				}
				rows := page[strings.Index(page, `id="member-rows"`):]
				for _, n := range everyone {
					if got := strings.Contains(rows, ">"+n+"</a>"); got != slices.Contains(tt.want, n) {
						t.Errorf("%s: %s listed = %v", tt.name, n, got)
					}
				}
				allTicked := strings.Contains(page, `id="role-all" name="all" value="1" checked`)
				if wantAll := len(tt.want) == len(everyone); allTicked != wantAll {
					t.Errorf("%s: Select all ticked = %v", tt.name, allTicked)
				}
			}
			_, _, page := owner.Do("GET", "/p/sunrise/admin/members", nil, false)
			for _, want := range []string{
				"Practitioner, Supervisor",                                          // names, not keys
				`title="Supervised by Sam Supervisor">Supervisee</span>`,            // the label and its hover
				"supervised by Sam Supervisor",                                      // and in words, for touch and keyboard
				`/admin/members/` + sup + `/unlock">Unlock`,                         // Unlock beside Locked
				`/admin/members/` + pat + `/temporary-password">Temporary password`, // active member
				`<script src="/static/console.js" defer></script>`,
			} {
				if !strings.Contains(page, want) {
					t.Errorf("members list lacks %s", want)
				}
			}
			for _, bad := range []string{
				"/admin/members/" + sup + "/temporary-password",                            // locked: unlock first
				"/admin/members/" + h.IDs["owner@sunrise.example"] + "/temporary-password", // oneself
				">practitioner", "supervisor<", "members.view", "(s)",
			} {
				if strings.Contains(page, bad) {
					t.Errorf("members list shows %s", bad)
				}
			}
			csp := h.header(t, owner, "/p/sunrise/admin/members", "Content-Security-Policy")
			if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
				t.Errorf("members list CSP: %s", csp)
			}
			if strings.Contains(page, "<script>") {
				t.Error("inline script on the members list")
			}
		})
	}
}

// Issue 18 point 3: the invitation offers only grantable roles and only
// members who can supervise; the supervisor and co-signature chosen there
// are in place when the invitation goes out, and refusals say what to do.
func TestConsoleInviteSupervision(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			h := newConsoleSite(t, engine)
			sup, pat, _ := supervisionStaff(t, h)
			owner := h.Browser()
			if st := owner.Login("sunrise", "owner@sunrise.example", apptest.Password); st != http.StatusSeeOther {
				t.Fatalf("owner login: %d", st)
			}
			_, _, page := owner.Do("GET", "/p/sunrise/admin/invite", nil, false)
			for name, want := range map[string]bool{`value="` + sup + `">Sam Supervisor`: true, `value="` + pat + `"`: false,
				`value="` + h.IDs["clin@sunrise.example"] + `"`: false, `value="` + h.IDs["nobody@sunrise.example"] + `"`: false,
				`id="cosign-notes"`: true, `id="cosign-plans"`: true} {
				if strings.Contains(page, name) != want {
					t.Errorf("invite form: %s shown = %v", name, !want)
				}
			}
			for _, tt := range []struct {
				name       string
				form       url.Values
				status     int
				text       string
				notes, pln bool
			}{
				{"not a supervisor", url.Values{"supervisor": {pat}}, 400, "Choose the supervisor from the list", false, false},
				{"unknown member", url.Values{"supervisor": {"m-nobody-sunrise-x"}}, 400, "Choose the supervisor from the list", false, false},
				{"both", url.Values{"supervisor": {sup}, "cosign_notes": {"yes"}, "cosign_plans": {"yes"}}, 303, "", true, true},
				{"notes only", url.Values{"supervisor": {sup}, "cosign_notes": {"yes"}}, 303, "", true, false},
				{"none", url.Values{"supervisor": {sup}}, 303, "", false, false},
			} {
				email := strings.ReplaceAll(tt.name, " ", "-") + "@sunrise.example"
				tt.form.Set("email", email)
				tt.form.Set("name", "New "+tt.name)
				tt.form["role"] = []string{"practitioner"}
				st, _, body := owner.Do("POST", "/p/sunrise/admin/invite", tt.form, true)
				if st != tt.status || !strings.Contains(body, tt.text) {
					t.Errorf("%s: %d\n%s", tt.name, st, body)
					continue
				}
				m, err := h.App.Store.MemberByEmail(h.Ctx, h.sunrise.ID, email)
				if tt.status != 303 {
					if err == nil {
						t.Errorf("%s: refused, but %s was invited", tt.name, email)
					}
					continue
				}
				if err != nil {
					t.Fatalf("%s: %v", tt.name, err)
				}
				got, err := h.App.Roles.Supervision(h.Ctx, h.sunrise.ID, m.ID)
				if err != nil || len(got.Supervisors) != 1 || got.Supervisors[0].SupervisorID != sup ||
					got.Supervisors[0].CosignNotes != tt.notes || got.Supervisors[0].CosignTreatmentPlans != tt.pln {
					t.Errorf("%s: supervision %+v %v", tt.name, got.Supervisors, err)
				}
			}

			// A supervisor offered by the form but deactivated before it was
			// sent: refused in words, at the supervisor field, and nothing
			// saved or sent.
			h.AddMember("sunrise", "gil@sunrise.example", "Gil Gone", []string{"practitioner", "supervisor"})
			if _, _, page := owner.Do("GET", "/p/sunrise/admin/invite", nil, false); !strings.Contains(page, "Gil Gone") {
				t.Fatal("the form does not offer Gil")
			}
			if err := h.App.Store.SetMemberStatus(h.Ctx, h.IDs["gil@sunrise.example"], store.StatusDeactivated, time.Now()); err != nil {
				t.Fatal(err)
			}
			form := url.Values{"email": {"late@sunrise.example"}, "role": {"practitioner"}, "supervisor": {h.IDs["gil@sunrise.example"]},
				"cosign_notes": {"yes"}}
			st, _, body := owner.Do("POST", "/p/sunrise/admin/invite", form, true)
			if m := alertText.FindStringSubmatch(body); st != 400 || m == nil || !strings.Contains(html.UnescapeString(m[1]), "Nothing was sent") ||
				!strings.Contains(html.UnescapeString(m[1]), "invite without a supervisor") {
				t.Errorf("supervisor deactivated since the form: %d\n%s", st, body)
			}
			if _, err := h.App.Store.MemberByEmail(h.Ctx, h.sunrise.ID, "late@sunrise.example"); err == nil {
				t.Error("supervisor deactivated since the form: the invitee was saved")
			}

			// An administrator is offered only the roles they may give.
			ada := h.Browser()
			if st := ada.Login("sunrise", "ada@sunrise.example", apptest.Password); st != http.StatusSeeOther {
				t.Fatalf("administrator login: %d", st)
			}
			grantable, err := h.App.Accounts.GrantableRoles(h.Ctx, h.sunrise, account.Actor{MemberID: h.IDs["ada@sunrise.example"]})
			if err != nil {
				t.Fatal(err)
			}
			_, _, page = ada.Do("GET", "/p/sunrise/admin/invite", nil, false)
			model, _ := h.App.Roles.Model(h.Ctx, h.sunrise.ID)
			for _, r := range model.Roles {
				if shown := strings.Contains(page, `name="role" value="`+r.Key+`"`); shown != slices.Contains(grantable, r.Key) {
					t.Errorf("administrator's invite form: role %s shown = %v, grantable = %v", r.Key, shown, grantable)
				}
			}
		})
	}
}

// Issue 18 points 1 and 5: the member page keeps roles the viewer may not
// give, offers only supervisors, and deactivating a supervisor lists their
// supervisees and hands them on (or ends their supervision).
func TestConsoleMemberPageAndDeactivation(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			h := newConsoleSite(t, engine)
			sup, pat, _ := supervisionStaff(t, h)
			owner := h.IDs["owner@sunrise.example"]
			h.AddMember("sunrise", "pia@sunrise.example", "Pia Practitioner", []string{"practitioner"})
			pia := h.IDs["pia@sunrise.example"]
			if err := h.App.Roles.SetSupervisors(h.Ctx, roles.Actor{PracticeID: h.sunrise.ID, MemberID: owner}, pia,
				[]roles.SupervisorLink{{SupervisorID: sup, CosignNotes: true}}, roles.Meta{}); err != nil {
				t.Fatal(err)
			}
			b := h.Browser()
			if st := b.Login("sunrise", "owner@sunrise.example", apptest.Password); st != http.StatusSeeOther {
				t.Fatalf("owner login: %d", st)
			}
			st, _, page := b.Do("GET", "/p/sunrise/admin/members/"+pat, nil, false)
			if st != 200 || !strings.Contains(page, `id="sup-`+sup+`"`) || strings.Contains(page, `id="sup-`+h.IDs["clin@sunrise.example"]+`"`) ||
				strings.Contains(page, `id="sup-`+h.IDs["nobody@sunrise.example"]+`"`) {
				t.Errorf("supervisor choices on Pat's page: %d", st)
			}
			if i, j := strings.Index(page, `class="tasks"`), strings.Index(page, `<details class="section"`); i < 0 || j < 0 || i > j {
				t.Error("the member page's actions do not come before its sections")
			}
			if strings.Contains(page, "<details class=\"section\" id=\"overrides\" open") || strings.Contains(page, ">clients.view:all<") {
				t.Error("overrides open on arrival, or shown as permission strings")
			}

			// Deactivating Sam: both supervisees listed; Pat handed to the
			// owner, Pia left with no one.
			st, _, page = b.Do("GET", "/p/sunrise/admin/members/"+sup+"/deactivate", nil, false)
			if st != 200 || !strings.Contains(page, "supervises 2 members") || !strings.Contains(page, `name="reassign-`+pat+`"`) ||
				!strings.Contains(page, `name="reassign-`+pia+`"`) || strings.Contains(page, `<option value="`+sup+`"`) {
				t.Fatalf("deactivation page: %d\n%s", st, page)
			}
			form := url.Values{"reassign": {"1"}, "reassign-" + pat: {owner}, "reassign-" + pia: {""}}
			if st, loc, _ := b.Do("POST", "/p/sunrise/admin/members/"+sup+"/deactivate", form, true); st != 303 || !strings.Contains(loc, "done=deactivated") {
				t.Fatalf("deactivate: %d %s", st, loc)
			}
			if m, _ := h.App.Store.MemberByID(h.Ctx, h.sunrise.ID, sup); m.Status != store.StatusDeactivated {
				t.Errorf("Sam is %s", m.Status)
			}
			for _, tt := range []struct {
				id   string
				want []roles.SupervisorLink
			}{
				{pat, []roles.SupervisorLink{{SupervisorID: owner, CosignNotes: true, CosignTreatmentPlans: true}}},
				{pia, nil},
			} {
				got, err := h.App.Roles.Supervision(h.Ctx, h.sunrise.ID, tt.id)
				if err != nil || !slices.Equal(got.Supervisors, tt.want) {
					t.Errorf("%s's supervisors: %+v %v, want %+v", tt.id, got.Supervisors, err, tt.want)
				}
			}

			// A member who supervises nobody gets the plain confirmation.
			if _, _, page := b.Do("GET", "/p/sunrise/admin/members/"+pia+"/deactivate", nil, false); strings.Contains(page, "supervises") {
				t.Error("a non-supervisor's deactivation warns about supervisees")
			}
		})
	}
}

// Issue 18 point 1: the member page offers the roles the viewer may give
// (account.Service.GrantableRoles); for a member holding a role the viewer
// may not give (the delegation model's staff rule), it offers no roles form
// and no Deactivate, and says who can — and the refusal is in words.
func TestConsoleMemberPageFollowsDelegation(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			h := newConsoleSite(t, engine)
			_, pat, adm := supervisionStaff(t, h)
			grantable, err := h.App.Accounts.GrantableRoles(h.Ctx, h.sunrise, account.Actor{MemberID: adm})
			if err != nil {
				t.Fatal(err)
			}
			if slices.Contains(grantable, roles.OwnerRole) || !slices.Contains(grantable, "practitioner") {
				t.Skipf("the administrator may give %v; this test needs practitioner and not %s", grantable, roles.OwnerRole)
			}
			b := h.Browser()
			if st := b.Login("sunrise", "ada@sunrise.example", apptest.Password); st != http.StatusSeeOther {
				t.Fatalf("administrator login: %d", st)
			}
			_, _, page := b.Do("GET", "/p/sunrise/admin/members/"+pat, nil, false)
			model, _ := h.App.Roles.Model(h.Ctx, h.sunrise.ID)
			for _, r := range model.Roles {
				if shown := strings.Contains(page, `name="role" value="`+r.Key+`"`); shown != slices.Contains(grantable, r.Key) {
					t.Errorf("Pat's page: role %s offered = %v, grantable = %v", r.Key, shown, grantable)
				}
			}
			if !strings.Contains(page, `id="deactivate"`) {
				t.Error("Pat's page offers no Deactivate to the administrator")
			}

			if err := h.App.Store.SetMemberRoles(h.Ctx, pat, []string{roles.OwnerRole, "practitioner"}); err != nil {
				t.Fatal(err)
			}
			_, _, page = b.Do("GET", "/p/sunrise/admin/members/"+pat, nil, false)
			if strings.Contains(page, `/admin/members/`+pat+`/roles"`) || !strings.Contains(page, `id="roles-not-yours"`) ||
				strings.Contains(page, `id="deactivate"`) {
				t.Errorf("an owner's page offers the administrator what they cannot do:\n%s", page)
			}
			st, _, body := b.Do("POST", "/p/sunrise/admin/members/"+pat+"/roles", url.Values{"role": {"practitioner", "scheduler"}}, true)
			alert := body[strings.Index(body, `role="alert"`)+1:]
			alert = alert[:strings.Index(alert, "</p>")]
			if st != http.StatusForbidden || !strings.Contains(alert, "Account Owner") ||
				slices.ContainsFunc(roles.Catalogue(), func(e roles.CatalogueEntry) bool { return strings.Contains(alert, e.Name) }) {
				t.Errorf("changing an owner's roles: %d\n%s", st, body)
			}
			if m, _ := h.App.Store.MemberByID(h.Ctx, h.sunrise.ID, pat); !slices.Equal(m.Roles, []string{roles.OwnerRole, "practitioner"}) {
				t.Errorf("roles after the refused change: %v", m.Roles)
			}
		})
	}
}

// Issue 18 points 1 and 10: an action that cannot work says so before its
// button (temporary password for a locked, deactivated or invited member),
// and a refusal names no permission string.
func TestConsoleRefusalsInWords(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			h := newConsoleSite(t, engine)
			sup, pat, _ := supervisionStaff(t, h)
			h.AddMember("sunrise", "dee@sunrise.example", "Dee Departed", []string{"practitioner"})
			dee := h.IDs["dee@sunrise.example"]
			if err := h.App.Store.SetMemberStatus(h.Ctx, dee, store.StatusDeactivated, time.Now()); err != nil {
				t.Fatal(err)
			}
			h.AddMember("sunrise", "ivy@sunrise.example", "Ivy Invited", []string{"practitioner"})
			ivy := h.IDs["ivy@sunrise.example"]
			if err := h.App.Store.SetMemberStatus(h.Ctx, ivy, store.StatusInvited, time.Now()); err != nil {
				t.Fatal(err)
			}
			for range 3 {
				h.Browser().Login("sunrise", "sam@sunrise.example", "wrong password entirely")
			}
			owner := h.Browser()
			if st := owner.Login("sunrise", "owner@sunrise.example", apptest.Password); st != http.StatusSeeOther {
				t.Fatalf("owner login: %d", st)
			}
			for _, tt := range []struct {
				name, id string
				status   int
				text     string
			}{
				{"active", pat, 200, "Email a temporary password to Pat Practitioner?"},
				{"locked", sup, 409, "Unlock it first"},
				{"deactivated", dee, 409, "Reactivate them first"},
				{"invited", ivy, 409, "Resend the invitation"},
			} {
				st, _, page := owner.Do("GET", "/p/sunrise/admin/members/"+tt.id+"/temporary-password", nil, false)
				if st != tt.status || !strings.Contains(page, tt.text) {
					t.Errorf("%s: %d\n%s", tt.name, st, page)
				}
			}
			// Unlock beside the Locked badge on the member's page returns there.
			_, _, page := owner.Do("GET", "/p/sunrise/admin/members/"+sup, nil, false)
			if !strings.Contains(page, `href="/p/sunrise/admin/members/`+sup+`/unlock?from=member"`) {
				t.Error("the locked member's page has no Unlock beside the badge")
			}
			_, _, page = owner.Do("GET", "/p/sunrise/admin/members/"+sup+"/unlock?from=member", nil, false)
			if !strings.Contains(page, `name="return" value="member"`) {
				t.Error("the unlock confirmation from the member page does not return there")
			}
			st, loc, _ := owner.Do("POST", "/p/sunrise/admin/members/"+sup+"/unlock", url.Values{"return": {"member"}}, true)
			if st != http.StatusSeeOther || loc != "/p/sunrise/admin/members/"+sup+"?done=unlocked" {
				t.Errorf("unlock from the member page: %d %s", st, loc)
			}
			if _, _, page := owner.Do("GET", loc, nil, false); !strings.Contains(page, "The member was unlocked") ||
				!strings.Contains(page, `id="temporary-password"`) {
				t.Error("after unlocking, the member page does not say so or offer the temporary password")
			}

			nobody := h.Browser()
			if st := nobody.Login("sunrise", "nobody@sunrise.example", apptest.Password); st != http.StatusSeeOther {
				t.Fatalf("nobody login: %d", st)
			}
			for _, path := range []string{"/p/sunrise/admin/members", "/p/sunrise/admin/invite", "/p/sunrise/admin/roles",
				"/p/sunrise/admin/members/" + pat, "/p/sunrise/admin/audit"} {
				st, _, page := nobody.Do("GET", path, nil, false)
				if st != http.StatusForbidden {
					t.Errorf("%s without permissions: %d", path, st)
				}
				for _, e := range roles.Catalogue() {
					if strings.Contains(page, e.Name) {
						t.Errorf("%s's refusal names %s", path, e.Name)
					}
				}
			}
		})
	}
}

// Issue 18 point 3: where the practice onboards by temporary password, an
// invited row (members list, invitations, member page) offers Temporary
// password beside Resend and Revoke; elsewhere it does not.
func TestConsoleInvitedRowTemporaryPassword(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			h := newConsoleSite(t, engine)
			owner := h.Browser()
			if st := owner.Login("sunrise", "owner@sunrise.example", apptest.Password); st != http.StatusSeeOther {
				t.Fatalf("owner login: %d", st)
			}
			form := url.Values{"email": {"ivy@sunrise.example"}, "name": {"Ivy Invited"}, "role": {"practitioner"}}
			if st, _, body := owner.Do("POST", "/p/sunrise/admin/invite", form, true); st != http.StatusSeeOther {
				t.Fatalf("invite: %d\n%s", st, body)
			}
			ivy, err := h.App.Store.MemberByEmail(h.Ctx, h.sunrise.ID, "ivy@sunrise.example")
			if err != nil {
				t.Fatal(err)
			}
			temp := `/admin/members/` + ivy.ID + `/temporary-password"`
			for _, tt := range []struct {
				onboarding string
				want       bool
			}{{"invitation", false}, {"temporary_password", true}} {
				v := tt.onboarding
				if _, err := h.App.Accounts.SetPracticeSettings(h.Ctx, "sunrise", account.Operator(),
					account.PracticeSettingsUpdate{Onboarding: &v}, account.Meta{}); err != nil {
					t.Fatal(err)
				}
				for _, path := range []string{"/p/sunrise/admin/members", "/p/sunrise/admin/invitations", "/p/sunrise/admin/members/" + ivy.ID} {
					_, _, page := owner.Do("GET", path, nil, false)
					if !strings.Contains(page, "/resend") || !strings.Contains(page, "/revoke") {
						t.Errorf("%s, %s: no Resend or Revoke for the invited member", tt.onboarding, path)
					}
					if got := strings.Contains(page, temp); got != tt.want {
						t.Errorf("%s, %s: Temporary password offered = %v", tt.onboarding, path, got)
					}
				}
				st, _, _ := owner.Do("GET", "/p/sunrise/admin/members/"+ivy.ID+"/temporary-password", nil, false)
				if (st == http.StatusOK) != tt.want {
					t.Errorf("%s: temporary-password confirmation %d", tt.onboarding, st)
				}
			}
		})
	}
}

// A deactivation the delegation model refuses changes nothing: an
// administrator who cannot staff the owner posts the owner's deactivation
// with a handover of the owner's supervisee, and the supervisee keeps their
// supervisor (the handover used to be made before the refusal).
func TestConsoleRefusedDeactivationHandsNothingOver(t *testing.T) {
	h := newConsoleSite(t, store.SQLite)
	sup, pat, _ := supervisionStaff(t, h)
	owner := h.IDs["owner@sunrise.example"]
	if err := h.App.Roles.SetSupervisors(h.Ctx, roles.Actor{PracticeID: h.sunrise.ID}, pat,
		[]roles.SupervisorLink{{SupervisorID: owner}}, roles.Meta{}); err != nil {
		t.Fatal(err)
	}
	ada := h.Browser()
	if st := ada.Login("sunrise", "ada@sunrise.example", apptest.Password); st != http.StatusSeeOther {
		t.Fatalf("ada's login: %d", st)
	}
	form := url.Values{"confirm": {"yes"}, "reassign": {"1"}, "reassign-" + pat: {sup}}
	st, _, page := ada.Do("POST", "/p/sunrise/admin/members/"+owner+"/deactivate", form, true)
	if st == http.StatusSeeOther || !strings.Contains(strings.ReplaceAll(page, "&#39;", "'"), "You can't deactivate") {
		t.Fatalf("administrator deactivating the owner: %d, want a refusal in words", st)
	}
	links, err := h.App.Store.Supervisors(h.Ctx, pat)
	if err != nil {
		t.Fatal(err)
	}
	if len(links) != 1 || links[0].SupervisorID != owner {
		t.Errorf("after the refused deactivation the supervisee's supervisors are %+v, want the owner still", links)
	}
	if m, _ := h.App.Store.MemberByID(h.Ctx, h.sunrise.ID, owner); m.Status != store.StatusActive {
		t.Errorf("owner is %s", m.Status)
	}
}
