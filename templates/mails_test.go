package templates

import (
	"bytes"
	"html"
	"io/fs"
	"reflect"
	"strings"
	"testing"
)

// mailCases are a filled value of every mail's data; lockout twice, for the
// member and for the administrators.
func mailCases() []MailData {
	return []MailData{
		SetupMail{PracticeName: "Sunrise Therapy", Link: "https://id.example.org/p/sunrise/setup?token=setup-token", Expires: "Fri 4 Dec 2026 10:00 UTC"},
		InvitationMail{PracticeName: "Sunrise Therapy", InviterName: "Dana Owner", RoleNames: []string{"Clinician", "Supervisor"},
			Link: "https://id.example.org/p/sunrise/invite?token=invite-token", Expires: "Sat 5 Dec 2026 10:00 UTC"},
		InvitationMail{PracticeName: "Sunrise Therapy", InviterName: "Dana Owner", RoleNames: []string{"Biller"},
			Link: "https://id.example.org/p/sunrise/invite?token=updated-token", Expires: "Sat 5 Dec 2026 11:00 UTC", Updated: true},
		AcceptedMail{PracticeName: "Sunrise Therapy", MemberEmail: "new.member@example.org", AcceptedAt: "Sun 6 Dec 2026 09:00 UTC"},
		TemporaryPasswordMail{PracticeName: "Sunrise Therapy", Email: "kim@example.org", Password: "temp-Pa55-word",
			LoginURL: "https://id.example.org/p/sunrise/login", Expires: "Mon 7 Dec 2026 10:00 UTC"},
		ResetMail{PracticeName: "Sunrise Therapy", Link: "https://id.example.org/p/sunrise/reset?token=reset-token", Expires: "Tue 8 Dec 2026 10:00 UTC"},
		LockoutMail{PracticeName: "Sunrise Therapy", MemberEmail: "locked@example.org", Attempts: 3, LockedAt: "Wed 9 Dec 2026 10:00 UTC",
			Addresses: []string{"203.0.113.7", "198.51.100.2"}, LoginURL: "https://id.example.org/p/sunrise/login", ToAdmin: false},
		LockoutMail{PracticeName: "Sunrise Therapy", MemberEmail: "locked@example.org", Attempts: 3, LockedAt: "Wed 9 Dec 2026 10:00 UTC",
			Addresses: []string{"203.0.113.7", "198.51.100.2"}, LoginURL: "https://id.example.org/p/sunrise/login", ToAdmin: true},
		UnlockMail{PracticeName: "Sunrise Therapy", MemberEmail: "locked@example.org", LoginURL: "https://id.example.org/p/sunrise/login"},
		ElevationMail{PracticeName: "Sunrise Therapy", Member: "Kim Clinician <kim@example.org>", GrantedBy: "Dana Owner <dana@example.org>",
			GrantedAt: "Thu, 10 Dec 2026 10:00:00 UTC", ExpiresAt: "Thu, 10 Dec 2026 11:00:00 UTC", Reason: "covering a crisis session",
			Permissions: []string{"clinical_notes.view:all", "clients.view:all"}},
	}
}

// Every mail template renders its subject, text and HTML part from a filled
// value without "<no value>", shows every value it was given (a field no
// part uses is a field the template forgot), and every template file under
// mail/ has a case here.
func TestEveryMailRenders(t *testing.T) {
	// An updated invitation says the earlier link no longer works.
	if m, err := mustParse(t).Render(InvitationMail{PracticeName: "P", Link: "https://x/i?t=1", Expires: "e", Updated: true}); err != nil ||
		!strings.Contains(m.Text, "no longer works") || !strings.Contains(m.HTML, "no longer works") {
		t.Errorf("updated invitation: %v\n%s", err, m.Text)
	}
	if m, err := mustParse(t).Render(InvitationMail{PracticeName: "P", Link: "https://x/i?t=1", Expires: "e"}); err != nil ||
		strings.Contains(m.Text, "no longer works") {
		t.Errorf("first invitation mentions an earlier one: %v\n%s", err, m.Text)
	}
	mails, err := ParseMails()
	if err != nil {
		t.Fatal(err)
	}
	covered := map[string]bool{}
	for _, data := range mailCases() {
		name := data.MailName()
		covered[name] = true
		t.Run(name, func(t *testing.T) {
			m, err := mails.Render(data)
			if err != nil {
				t.Fatal(err)
			}
			parts := map[string]string{"subject": m.Subject, "text": m.Text, "html": m.HTML}
			for part, got := range parts {
				if strings.TrimSpace(got) == "" {
					t.Errorf("%s part is empty", part)
				}
				if strings.Contains(got, "<no value>") || strings.Contains(got, "&lt;no value&gt;") {
					t.Errorf("%s part has <no value>:\n%s", part, got)
				}
			}
			if !strings.Contains(m.Subject, data.Practice()) {
				t.Errorf("subject %q does not name the practice", m.Subject)
			}
			for field, want := range shownValues(data) {
				if !strings.Contains(m.Text, want) {
					t.Errorf("text part does not show %s %q:\n%s", field, want, m.Text)
				}
				if !strings.Contains(html.UnescapeString(m.HTML), want) {
					t.Errorf("HTML part does not show %s %q:\n%s", field, want, m.HTML)
				}
			}
		})
	}
	files, err := fs.Glob(files, "mail/*")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no mail templates embedded")
	}
	for _, f := range files {
		name, ok := strings.CutSuffix(strings.TrimPrefix(f, "mail/"), ".txt.tmpl")
		if !ok {
			name, ok = strings.CutSuffix(strings.TrimPrefix(f, "mail/"), ".html.tmpl")
		}
		if !ok {
			t.Errorf("%s: a mail template is NAME.txt.tmpl or NAME.html.tmpl", f)
			continue
		}
		if !covered[name] {
			t.Errorf("%s has no case in mailCases: add its data type's filled value", f)
		}
	}
}

// shownValues are the values of data's fields that both parts must show:
// every string and list element, except the failed attempts' addresses in
// the lock notice to the member (shown to administrators only).
func shownValues(data MailData) map[string]string {
	out := map[string]string{}
	v := reflect.ValueOf(data)
	for i := range v.NumField() {
		f, fv := v.Type().Field(i), v.Field(i)
		if l, ok := data.(LockoutMail); ok && !l.ToAdmin && f.Name == "Addresses" {
			continue
		}
		switch fv.Kind() {
		case reflect.String:
			out[f.Name] = fv.String()
		case reflect.Slice:
			for j := range fv.Len() {
				out[f.Name+"["+string(rune('0'+j))+"]"] = fv.Index(j).String()
			}
		}
	}
	return out
}

// A value a mail template cannot find is an error, not "<no value>": the
// templates are parsed with missingkey=error (which decides for map values;
// a struct's missing field is always an error).
func TestMailTemplatesRefuseMissingKeys(t *testing.T) {
	mails, err := ParseMails()
	if err != nil {
		t.Fatal(err)
	}
	partial := map[string]any{"PracticeName": "Sunrise Therapy"} // no Link, no Expires
	var buf bytes.Buffer
	if err := mails.text["setup"].ExecuteTemplate(&buf, "text", partial); err == nil {
		t.Errorf("text part rendered with a missing key:\n%s", buf.String())
	}
	buf.Reset()
	if err := mails.html["setup"].Execute(&buf, partial); err == nil {
		t.Errorf("HTML part rendered with a missing key:\n%s", buf.String())
	}
	if _, err := mails.Render(nil); err == nil {
		t.Error("Render(nil) succeeded")
	}
}

func mustParse(t *testing.T) *Mails {
	t.Helper()
	m, err := ParseMails()
	if err != nil {
		t.Fatal(err)
	}
	return m
}
