package adminapi_test

import (
	"encoding/json"
	"io"
	"mime/quotedprintable"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/account"
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

var auditTime = regexp.MustCompile(`<time datetime="(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)" title="([^"]+ UTC)">([^<]+)</time>`)

// TestConsoleAuditReadable: the console's audit trail names people (name,
// email, roles in words), says what happened in words, shows times in the
// practice's time zone with UTC in the title, filters by person, and keeps
// the export in UTC.
func TestConsoleAuditReadable(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			h := newHarness(t, engine)
			clin := h.ids["clin@sunrise.example"]
			for range 3 {
				h.browser().Login("sunrise", "clin@sunrise.example", "wrong password entirely")
			}
			owner := h.browser()
			if st := owner.Login("sunrise", "owner@sunrise.example", ownerPw); st != 303 {
				t.Fatalf("owner login: %d", st)
			}
			// The time zone, set in the console's settings form.
			if st, loc, _ := owner.do("POST", "/p/sunrise/admin/sign-in/settings", url.Values{"time_zone": {"America/Chicago"}, "onboarding": {""}}, true); st != 303 ||
				!strings.Contains(loc, "done=settings") {
				t.Fatalf("settings save: %d %s", st, loc)
			}
			st, _, page := owner.do("POST", "/p/sunrise/admin/sign-in/settings", url.Values{"time_zone": {"Chicago"}}, true)
			if st != 400 || !strings.Contains(page, "is not a time zone") || !strings.Contains(page, `value="Chicago"`) {
				t.Errorf("bad zone in the console: %d\n%s", st, page)
			}
			if _, _, page := owner.do("GET", "/p/sunrise/admin/sign-in", nil, false); !strings.Contains(page, h.srv.URL+"/p/sunrise/login") ||
				!strings.Contains(page, `value="America/Chicago"`) {
				t.Errorf("sign-in page lacks the login address or zone:\n%s", page)
			}
			if st, _, _ := owner.do("POST", "/p/sunrise/admin/members/"+clin+"/unlock", url.Values{}, true); st != 303 {
				t.Fatalf("unlock: %d", st)
			}
			st, _, page = owner.do("GET", "/p/sunrise/admin/audit", nil, false)
			if st != 200 {
				t.Fatalf("audit: %d", st)
			}
			for _, want := range []string{
				"Owner sunrise (", ") unlocked the account of Cleo Clinician",
				"The account of Cleo Clinician was locked after failed password attempts",
				"A login to the account of Cleo Clinician failed",
				"changed the practice settings",
				"owner@sunrise.example", "clin@sunrise.example",
				"When (America/Chicago)",
			} {
				if !strings.Contains(page, want) {
					t.Errorf("audit page lacks %q", want)
				}
			}
			if strings.Contains(page, "<td>"+clin+"</td>") {
				t.Errorf("audit page shows a member ID as a person")
			}
			m := auditTime.FindStringSubmatch(page)
			if m == nil {
				t.Fatalf("no <time> with UTC title:\n%s", page)
			}
			at, _ := time.Parse(time.RFC3339, m[1])
			chicago, _ := time.LoadLocation("America/Chicago")
			if want := at.In(chicago).Format("Mon 2 Jan 2006, 15:04:05 MST"); m[3] != want || m[2] != at.UTC().Format("2006-01-02 15:04:05 UTC") {
				t.Errorf("time shown %q title %q, want %q in Chicago", m[3], m[2], want)
			}
			// Filter by person: by email, by part of a name, by the link's ID.
			for _, q := range []string{"clin@sunrise.example", "Cleo", clin} {
				_, _, page := owner.do("GET", "/p/sunrise/admin/audit?person="+url.QueryEscape(q), nil, false)
				if !strings.Contains(page, "Audit trail: Cleo Clinician") || strings.Contains(page, "changed the practice settings") ||
					!strings.Contains(page, "unlocked the account of Cleo Clinician") {
					t.Errorf("person=%s:\n%s", q, page)
				}
			}
			for _, q := range []string{"zzz-nobody", "sunrise.example"} {
				_, _, page := owner.do("GET", "/p/sunrise/admin/audit?person="+url.QueryEscape(q), nil, false)
				if !strings.Contains(page, `role="alert"`) || !strings.Contains(page, "No event matches") {
					t.Errorf("person=%s should explain and show nothing:\n%s", q, page)
				}
			}
			// Exports keep UTC.
			_, _, body := owner.do("GET", "/p/sunrise/admin/audit/export?format=jsonl&person="+clin, nil, false)
			if !strings.Contains(body, `"action":"member.unlock"`) || !strings.Contains(body, "Z\"") || strings.Contains(body, "practice.settings") {
				t.Errorf("export: %s", body)
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
				`href="https://ehr.example/start"`, "Clinic EHR", `id="member-roles"`, `href="/p/sunrise/password"`, "You are signed in"} {
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

// TestConsoleLockMails: the lock notice to the member who may unlock greets
// them by name, names the locked member and links straight to that
// member's Unlock in the console; the unlock mail says who unlocked, by
// name and role; times are in the practice's time zone. Read from the .eml
// files the file transport writes.
func TestConsoleLockMails(t *testing.T) {
	h := newHarness(t, store.SQLite)
	clin := h.ids["clin@sunrise.example"]
	tz := "America/Chicago"
	if _, err := h.app.Accounts.SetPracticeSettings(h.ctx, "sunrise", account.Operator(), account.PracticeSettingsUpdate{TimeZone: &tz}, account.Meta{}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		h.browser().Login("sunrise", "clin@sunrise.example", "wrong password entirely")
	}
	owner := h.browser()
	owner.Login("sunrise", "owner@sunrise.example", ownerPw)
	if st, _, _ := owner.do("POST", "/p/sunrise/admin/members/"+clin+"/unlock", url.Values{}, true); st != 303 {
		t.Fatalf("unlock: %d", st)
	}
	mails := readMails(t, h.cfg.MailDir())
	find := func(to, subject string) string {
		t.Helper()
		for _, m := range mails {
			if strings.Contains(m, "To: <"+to+">") && strings.Contains(m, subject) {
				return m
			}
		}
		t.Fatalf("no mail to %s about %q among %d:\n%s", to, subject, len(mails), strings.Join(mails, "\n=====\n")[:min(3000, len(strings.Join(mails, "")))])
		return ""
	}
	admin := find("owner@sunrise.example", "Account locked at Practice sunrise: Cleo Clinician")
	for _, want := range []string{"Hello Owner sunrise,", "account of Cleo Clinician (clin@sunrise.example)",
		h.srv.URL + "/p/sunrise/admin/members/" + clin + "/unlock"} {
		if !strings.Contains(admin, want) {
			t.Errorf("lock notice to the owner lacks %q:\n%s", want, admin)
		}
	}
	if !strings.Contains(admin, " CST") && !strings.Contains(admin, " CDT") {
		t.Errorf("lock notice not in the practice's zone:\n%s", admin)
	}
	unlock := find("clin@sunrise.example", "was unlocked")
	if !strings.Contains(unlock, "Hello Cleo Clinician,") || !strings.Contains(unlock, "Owner sunrise (") ||
		!strings.Contains(unlock, ") unlocked your") {
		t.Errorf("unlock mail:\n%s", unlock)
	}
}

// readMails reads every .eml file under dir, decoded enough to search: the
// quoted-printable soft line breaks joined.
func readMails(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".eml") {
			continue
		}
		raw, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		r := quotedprintable.NewReader(strings.NewReader(string(raw)))
		dec, err := io.ReadAll(r)
		if err != nil {
			dec = raw
		}
		out = append(out, string(dec))
	}
	return out
}
