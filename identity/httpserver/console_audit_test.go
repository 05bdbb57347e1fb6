package httpserver_test

import (
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
	"github.com/frontdeskhq/frontdesk/identity/app/apptest"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
)

var auditTime = regexp.MustCompile(`<time datetime="(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)" title="([^"]+ UTC)">([^<]+)</time>`)

// TestConsoleAuditReadable: the console's audit trail names people (name,
// email, roles in words), says what happened in words, shows times in the
// practice's time zone with UTC in the title, filters by person, and keeps
// the export in UTC.
func TestConsoleAuditReadable(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			h := newConsoleSite(t, engine)
			clin := h.IDs["clin@sunrise.example"]
			for range 3 {
				h.Browser().Login("sunrise", "clin@sunrise.example", "wrong password entirely")
			}
			owner := h.Browser()
			if st := owner.Login("sunrise", "owner@sunrise.example", apptest.Password); st != 303 {
				t.Fatalf("owner login: %d", st)
			}
			// The time zone, set in the console's settings form.
			if st, loc, _ := owner.Do("POST", "/p/sunrise/admin/sign-in/settings", url.Values{"time_zone": {"America/Chicago"}, "onboarding": {""}}, true); st != 303 ||
				!strings.Contains(loc, "done=settings") {
				t.Fatalf("settings save: %d %s", st, loc)
			}
			st, _, page := owner.Do("POST", "/p/sunrise/admin/sign-in/settings", url.Values{"time_zone": {"Chicago"}}, true)
			if st != 400 || !strings.Contains(page, "is not a time zone") || !strings.Contains(page, `value="Chicago"`) {
				t.Errorf("bad zone in the console: %d\n%s", st, page)
			}
			if _, _, page := owner.Do("GET", "/p/sunrise/admin/sign-in", nil, false); !strings.Contains(page, h.URL+"/p/sunrise/login") ||
				!strings.Contains(page, `value="America/Chicago"`) {
				t.Errorf("sign-in page lacks the login address or zone:\n%s", page)
			}
			if st, _, _ := owner.Do("POST", "/p/sunrise/admin/members/"+clin+"/unlock", url.Values{}, true); st != 303 {
				t.Fatalf("unlock: %d", st)
			}
			st, _, page = owner.Do("GET", "/p/sunrise/admin/audit", nil, false)
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
				_, _, page := owner.Do("GET", "/p/sunrise/admin/audit?person="+url.QueryEscape(q), nil, false)
				if !strings.Contains(page, "Audit trail: Cleo Clinician") || strings.Contains(page, "changed the practice settings") ||
					!strings.Contains(page, "unlocked the account of Cleo Clinician") {
					t.Errorf("person=%s:\n%s", q, page)
				}
			}
			for _, q := range []string{"zzz-nobody", "sunrise.example"} {
				_, _, page := owner.Do("GET", "/p/sunrise/admin/audit?person="+url.QueryEscape(q), nil, false)
				if !strings.Contains(page, `role="alert"`) || !strings.Contains(page, "No event matches") {
					t.Errorf("person=%s should explain and show nothing:\n%s", q, page)
				}
			}
			// Exports keep UTC.
			_, _, body := owner.Do("GET", "/p/sunrise/admin/audit/export?format=jsonl&person="+clin, nil, false)
			if !strings.Contains(body, `"action":"member.unlock"`) || !strings.Contains(body, "Z\"") || strings.Contains(body, "practice.settings") {
				t.Errorf("export: %s", body)
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
	h := newConsoleSite(t, store.SQLite)
	clin := h.IDs["clin@sunrise.example"]
	tz := "America/Chicago"
	if _, err := h.App.Accounts.SetPracticeSettings(h.Ctx, "sunrise", account.Operator(), account.PracticeSettingsUpdate{TimeZone: &tz}, account.Meta{}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		h.Browser().Login("sunrise", "clin@sunrise.example", "wrong password entirely")
	}
	owner := h.Browser()
	owner.Login("sunrise", "owner@sunrise.example", apptest.Password)
	if st, _, _ := owner.Do("POST", "/p/sunrise/admin/members/"+clin+"/unlock", url.Values{}, true); st != 303 {
		t.Fatalf("unlock: %d", st)
	}
	mails := readMails(t, h.Config.MailDir())
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
		h.URL + "/p/sunrise/admin/members/" + clin + "/unlock"} {
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
