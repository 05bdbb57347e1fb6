package adminapi_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
)

// TestPracticeSettingsAPI: GET/PATCH /practices/{practice}/settings, checked
// against docs/openapi.yaml on every answer: the time zone is an IANA name
// (every other value refused), onboarding one of three values, each change
// audited, permissions and practice bound.
func TestPracticeSettingsAPI(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			h := newHarness(t, engine)
			owner := h.token("sunrise", "owner@sunrise.example", "console")
			nobody := h.token("sunrise", "nobody@sunrise.example", "console")
			moon := h.token("moon", "owner@moon.example", "console")
			const path = "/practices/sunrise/settings"
			var set struct {
				TimeZone   string `json:"time_zone"`
				Onboarding string `json:"onboarding"`
				Temp       bool   `json:"temporary_password_onboarding"`
				LoginURL   string `json:"login_url"`
			}
			r := h.call("GET", path, owner, nil, nil)
			if r.status != 200 || json.Unmarshal(r.body, &set) != nil || set.TimeZone != "UTC" || set.Onboarding != "" ||
				set.Temp || set.LoginURL != h.srv.URL+"/p/sunrise/login" {
				t.Fatalf("GET: %d %s", r.status, r.body)
			}
			for _, tt := range []struct {
				name, token, body string
				status            int
			}{
				{"no token", "", `{"time_zone":"UTC"}`, 401},
				{"member without settings.edit", nobody, `{"time_zone":"UTC"}`, 403},
				{"another practice", moon, `{"time_zone":"UTC"}`, 404},
				{"empty body", owner, `{}`, 400},
				{"unknown field", owner, `{"timezone":"UTC"}`, 400},
				{"unknown zone", owner, `{"time_zone":"Mars/Olympus_Mons"}`, 400},
				{"server's local zone", owner, `{"time_zone":"Local"}`, 400},
				{"empty zone", owner, `{"time_zone":""}`, 400},
				{"path in zone", owner, `{"time_zone":"../../etc/passwd"}`, 400},
				{"offset, not a name", owner, `{"time_zone":"+05:00"}`, 400},
				{"too long", owner, `{"time_zone":"` + strings.Repeat("A", 65) + `"}`, 400},
				{"bad onboarding", owner, `{"onboarding":"fax"}`, 400},
			} {
				if r := h.call("PATCH", path, tt.token, tt.body, nil); r.status != tt.status {
					t.Errorf("%s: %d, want %d: %s", tt.name, r.status, tt.status, r.body)
				}
			}
			r = h.call("PATCH", path, owner, `{"time_zone":"America/Chicago","onboarding":"temporary_password"}`, nil)
			if r.status != 200 || json.Unmarshal(r.body, &set) != nil || set.TimeZone != "America/Chicago" ||
				set.Onboarding != "temporary_password" || !set.Temp {
				t.Fatalf("PATCH: %d %s", r.status, r.body)
			}
			if p, _ := h.app.Store.PracticeBySlug(h.ctx, "moon"); p.TimeZone != "UTC" {
				t.Errorf("moon's zone changed to %s", p.TimeZone)
			}
			recs, err := h.app.Store.QueryAudit(h.ctx, store.AuditFilter{PracticeID: h.sunrise.ID, Action: "practice.settings", Outcome: "success"})
			if err != nil || len(recs) != 2 || !strings.Contains(recs[1].DetailsJSON, `"after":"America/Chicago"`) ||
				recs[1].ActorID != h.ids["owner@sunrise.example"] {
				t.Errorf("audit: %+v %v", recs, err)
			}
			if ok, err := h.app.Accounts.OnboardsByTemporaryPassword(h.ctx, "sunrise"); err != nil || !ok {
				t.Errorf("OnboardsByTemporaryPassword = %v, %v", ok, err)
			}
		})
	}
}

// TestStaffHome: after login a member lands on a page that welcomes them to
// the practice by name and lists the apps they may open (registered apps
// with a launch URL whose required permission they hold, under their
// display names), their roles by name, links to passkeys and password; the
// practice's login address only for administrators. Display name and launch
// URL are set and checked through the admin API and the console.
func TestStaffHome(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			h := newHarness(t, engine)
			owner := h.token("sunrise", "owner@sunrise.example", "console")
			const base = "/practices/sunrise/apps"
			for _, body := range []string{
				`{"name":"X","redirect_uris":["https://a.example/cb"],"confidential":true,"launch_url":"http://ehr.example/"}`,
				`{"name":"X","redirect_uris":["https://a.example/cb"],"confidential":true,"launch_url":"javascript:alert(1)"}`,
				`{"name":"X","redirect_uris":["https://a.example/cb"],"confidential":true,"launch_url":"https://u@ehr.example/"}`,
				`{"name":"X","redirect_uris":["https://a.example/cb"],"confidential":true,"launch_url":"/relative"}`,
				`{"name":"X","redirect_uris":["https://a.example/cb"],"confidential":true,"display_name":"two\nlines"}`,
			} {
				if r := h.call("POST", base, owner, body, nil); r.status != 400 {
					t.Errorf("register %s: %d %s", body, r.status, r.body)
				}
			}
			register := func(body string) string {
				r := h.call("POST", base, owner, body, nil)
				var a struct {
					ClientID string `json:"client_id"`
				}
				if r.status != 201 || json.Unmarshal(r.body, &a) != nil {
					t.Fatalf("register: %d %s", r.status, r.body)
				}
				return a.ClientID
			}
			ehr := register(`{"name":"ehr","display_name":"Notes & Scheduling","launch_url":"https://ehr.example/start","redirect_uris":["https://ehr.example/cb"],"confidential":true}`)
			register(`{"name":"admin-tools","display_name":"Staffing tools","launch_url":"https://tools.example/","redirect_uris":["https://tools.example/cb"],"confidential":true,"require_permission":"members.manage"}`)
			register(`{"name":"backend","redirect_uris":["https://backend.example/cb"],"confidential":true}`)
			r := h.call("PATCH", base+"/"+ehr, owner, `{"launch_url":"ftp://ehr.example/"}`, nil)
			if r.status != 400 {
				t.Errorf("PATCH bad launch_url: %d %s", r.status, r.body)
			}
			r = h.call("PATCH", base+"/"+ehr, owner, `{"display_name":"Clinic EHR"}`, nil)
			if r.status != 200 || !strings.Contains(string(r.body), `"display_name":"Clinic EHR"`) ||
				!strings.Contains(string(r.body), `"launch_url":"https://ehr.example/start"`) {
				t.Errorf("PATCH display_name: %d %s", r.status, r.body)
			}

			clin := h.browser()
			if st := clin.Login("sunrise", "clin@sunrise.example", ownerPw); st != 303 {
				t.Fatalf("login: %d", st)
			}
			_, _, page := clin.do("GET", "/p/sunrise/?welcome=1", nil, false)
			for _, want := range []string{"Welcome to Practice sunrise, Cleo Clinician", `id="welcome-notice"`,
				`href="https://ehr.example/start"`, "Clinic EHR", `id="member-roles"`, `href="/p/sunrise/password"`, "You have been signed in"} {
				if !strings.Contains(page, want) {
					t.Errorf("clinician's home lacks %q", want)
				}
			}
			for _, not := range []string{"Staffing tools", "backend", `id="login-url"`, ">scheduler<"} {
				if strings.Contains(page, not) {
					t.Errorf("clinician's home shows %q:\n%s", not, page)
				}
			}
			own := h.browser()
			own.Login("sunrise", "owner@sunrise.example", ownerPw)
			_, _, page = own.do("GET", "/p/sunrise/", nil, false)
			for _, want := range []string{"Staffing tools", "Clinic EHR", `id="login-url"`, h.srv.URL + "/p/sunrise/login"} {
				if !strings.Contains(page, want) {
					t.Errorf("owner's home lacks %q", want)
				}
			}
			// The console sets both fields; a bad address is explained.
			if st, loc, _ := own.do("POST", "/p/sunrise/admin/apps/"+ehr+"/launch", url.Values{"display_name": {"EHR"}, "launch_url": {""}}, true); st != 303 ||
				!strings.Contains(loc, "done=launch") {
				t.Fatalf("console launch: %d %s", st, loc)
			}
			if _, _, page := clin.do("GET", "/p/sunrise/", nil, false); strings.Contains(page, "ehr.example") || !strings.Contains(page, `id="no-apps"`) {
				t.Errorf("an app without a launch URL is still on the home page:\n%s", page)
			}
			st, _, page := own.do("POST", "/p/sunrise/admin/apps/"+ehr+"/launch", url.Values{"launch_url": {"javascript:alert(1)"}}, true)
			if st != 400 || !strings.Contains(page, "launch URL") {
				t.Errorf("console bad launch: %d\n%s", st, page)
			}
		})
	}
}

// TestPractitionerProfile: administrators edit a practitioner's legal name,
// preferred name, credentials, NPI (check digit verified) and taxonomy code
// in the console's member page section and the admin API; each change is
// audited; members without members.manage see it read-only.
func TestPractitionerProfile(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			h := newHarness(t, engine)
			clin := h.ids["clin@sunrise.example"]
			owner := h.browser()
			owner.Login("sunrise", "owner@sunrise.example", ownerPw)
			page := "/p/sunrise/admin/members/" + clin
			_, _, body := owner.do("GET", page, nil, false)
			if !strings.Contains(body, `id="practitioner-heading"`) || !strings.Contains(body, `name="npi"`) {
				t.Fatalf("member page lacks the clinical information form:\n%s", body)
			}
			form := url.Values{"preferred_name": {"Cleo Clinician"}, "legal_name": {"Cleopatra Q. Clinician"},
				"credentials": {"LCSW"}, "npi": {"1234567893"}, "taxonomy": {"1041c0700x"}}
			for _, tt := range []struct {
				field, value, words string
			}{
				{"npi", "1234567890", "the NPI is not a valid NPI"},
				{"npi", "12345", "the NPI is not a valid NPI"},
				{"taxonomy", "1041C0700", "the taxonomy code is not a taxonomy code"},
				{"legal_name", "Cleo\u202e", "the legal name must be one line"},
				{"preferred_name", "", "type the name the practitioner goes by"},
			} {
				bad := url.Values{}
				for k, v := range form {
					bad[k] = v
				}
				bad.Set(tt.field, tt.value)
				st, _, body := owner.do("POST", page+"/practitioner", bad, true)
				if st != 400 || !strings.Contains(body, tt.words) || !strings.Contains(body, `aria-invalid="true"`) ||
					strings.Contains(body, "npi:") {
					t.Errorf("%s=%q: %d, want 400 saying %q", tt.field, tt.value, st, tt.words)
				}
			}
			if m, _ := h.app.Store.MemberByID(h.ctx, h.sunrise.ID, clin); m.NPI != "" || m.LegalName != "" {
				t.Fatalf("a refused form saved something: %+v", m.Profile())
			}
			if st, loc, _ := owner.do("POST", page+"/practitioner", form, false); st != 403 || loc != "" {
				t.Errorf("cross-origin POST: %d", st)
			}
			st, loc, _ := owner.do("POST", page+"/practitioner", form, true)
			if st != 303 || !strings.Contains(loc, "done=practitioner") {
				t.Fatalf("save: %d %s", st, loc)
			}
			m, _ := h.app.Store.MemberByID(h.ctx, h.sunrise.ID, clin)
			if want := (store.PractitionerProfile{LegalName: "Cleopatra Q. Clinician", PreferredName: "Cleo Clinician",
				Credentials: "LCSW", NPI: "1234567893", Taxonomy: "1041C0700X"}); m.Profile() != want {
				t.Errorf("saved %+v, want %+v", m.Profile(), want)
			}
			recs, _ := h.app.Store.QueryAudit(h.ctx, store.AuditFilter{PracticeID: h.sunrise.ID, Action: "member.profile", SubjectID: clin})
			if len(recs) != 1 || !strings.Contains(recs[0].DetailsJSON, `"npi_after":"1234567893"`) {
				t.Errorf("audit: %+v", recs)
			}
			// The API: the same checks; GET shows the fields.
			tok := h.token("sunrise", "owner@sunrise.example", "console")
			if r := h.call("PATCH", "/practices/sunrise/members/"+clin, tok, `{"npi":"1234567894"}`, nil); r.status != 400 {
				t.Errorf("API bad NPI: %d %s", r.status, r.body)
			}
			if r := h.call("PATCH", "/practices/sunrise/members/"+clin, tok, `{"credentials":"LCSW, PhD","npi":""}`, nil); r.status != 200 ||
				!strings.Contains(string(r.body), `"credentials":"LCSW, PhD"`) || !strings.Contains(string(r.body), `"npi":""`) {
				t.Errorf("API PATCH: %d %s", r.status, r.body)
			}
			// A member without members.manage sees it read-only and cannot post.
			sched := h.browser()
			sched.Login("sunrise", "clin@sunrise.example", ownerPw)
			if st, _, _ := sched.do("POST", page+"/practitioner", form, true); st != 403 {
				t.Errorf("scheduler POST: %d", st)
			}
		})
	}
}
