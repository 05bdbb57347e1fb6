package templates

import (
	"bytes"
	"fmt"
	"html"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// mailCases are a filled value of every mail's data; lockout twice, for the
// member and for the administrators.
func mailCases() []MailData {
	return []MailData{
		SetupMail{PracticeName: "Sunrise Therapy", RecipientName: "Dana Reyes", Link: "https://id.example.org/p/sunrise/setup?token=setup-token",
			Expires: "Fri 4 Dec 2026, 10:00 CST", LoginURL: "https://id.example.org/p/sunrise/login"},
		InvitationMail{PracticeName: "Sunrise Therapy", RecipientName: "Sam Lee", InviterName: "Dana Reyes (Practice Administrator)",
			RoleNames: []string{"Clinician", "Supervisor"}, Link: "https://id.example.org/p/sunrise/invite?token=invite-token",
			Expires: "Sat 5 Dec 2026, 10:00 CST", LoginURL: "https://id.example.org/p/sunrise/login"},
		InvitationMail{PracticeName: "Sunrise Therapy", InviterName: "Dana Reyes (Practice Administrator)", RoleNames: []string{"Biller"},
			Link: "https://id.example.org/p/sunrise/invite?token=updated-token", Expires: "Sat 5 Dec 2026, 11:00 CST",
			LoginURL: "https://id.example.org/p/sunrise/login", Updated: true},
		AcceptedMail{PracticeName: "Sunrise Therapy", RecipientName: "Dana Reyes", MemberName: "Sam Lee", MemberEmail: "new.member@example.org",
			AcceptedAt: "Sun 6 Dec 2026, 09:00 CST", MemberURL: "https://id.example.org/p/sunrise/admin/members/m-2"},
		TemporaryPasswordMail{PracticeName: "Sunrise Therapy", RecipientName: "Kim Park", ActorName: "Dana Reyes (Practice Administrator)",
			Email: "kim@example.org", Password: "temp-Pa55-word", LoginURL: "https://id.example.org/p/sunrise/login", Expires: "Mon 7 Dec 2026, 10:00 CST"},
		TemporaryPasswordMail{PracticeName: "Sunrise Therapy", RecipientName: "Kim Park", ActorName: "Dana Reyes (Practice Administrator)",
			Email: "kim@example.org", Password: "temp-Pa55-word", LoginURL: "https://id.example.org/p/sunrise/login", Expires: "Mon 7 Dec 2026, 10:00 CST",
			NewAccess: true, RoleNames: []string{"Office Staff"}},
		ResetMail{PracticeName: "Sunrise Therapy", RecipientName: "Kim Park", Link: "https://id.example.org/p/sunrise/reset?token=reset-token",
			Expires: "Tue 8 Dec 2026, 10:00 CST", RequestedAt: "Tue 8 Dec 2026, 09:00 CST"},
		LockoutMail{PracticeName: "Sunrise Therapy", RecipientName: "Sam Lee", MemberName: "Sam Lee", MemberEmail: "locked@example.org", Attempts: 3,
			LockedAt: "Wed 9 Dec 2026, 10:00 CST", Addresses: []string{"203.0.113.7", "198.51.100.2"},
			LoginURL: "https://id.example.org/p/sunrise/login", ToAdmin: false},
		LockoutMail{PracticeName: "Sunrise Therapy", RecipientName: "Dana Reyes", MemberName: "Sam Lee", MemberEmail: "locked@example.org", Attempts: 3,
			LockedAt: "Wed 9 Dec 2026, 10:00 CST", Addresses: []string{"203.0.113.7", "198.51.100.2"},
			LoginURL: "https://id.example.org/p/sunrise/login", UnlockURL: "https://id.example.org/p/sunrise/admin/members/m-2/unlock", ToAdmin: true},
		UnlockMail{PracticeName: "Sunrise Therapy", RecipientName: "Sam Lee", MemberEmail: "locked@example.org",
			ActorName: "Dana Reyes (Practice Administrator)", UnlockedAt: "Wed 9 Dec 2026, 11:00 CST", LoginURL: "https://id.example.org/p/sunrise/login"},
		ElevationMail{PracticeName: "Sunrise Therapy", RecipientName: "Dana Reyes", Member: "Kim Clinician <kim@example.org>", GrantedBy: "Dana Owner <dana@example.org>",
			GrantedAt: "Thu, 10 Dec 2026 10:00:00 CST", ExpiresAt: "Thu, 10 Dec 2026 11:00:00 CST", Reason: "covering a crisis session",
			Permissions: []string{"clinical_notes.view:all", "clients.view:all"}},
	}
}

// Every mail template renders its subject, text and HTML part from a filled
// value without "<no value>", shows every value it was given (a field no
// part uses is a field the template forgot), and every template file under
// mail/ has a case here.
func TestEveryMailRenders(t *testing.T) {
	// An updated invitation says the earlier link no longer works.
	if m, err := mustParse(t).Render(InvitationMail{PracticeName: "P", Link: "https://x/i?t=1", Expires: "e", LoginURL: "https://x/login", Updated: true}); err != nil ||
		!strings.Contains(m.Text, "no longer works") || !strings.Contains(m.HTML, "no longer works") {
		t.Errorf("updated invitation: %v\n%s", err, m.Text)
	}
	if m, err := mustParse(t).Render(InvitationMail{PracticeName: "P", Link: "https://x/i?t=1", Expires: "e", LoginURL: "https://x/login"}); err != nil ||
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
		if name == mailLayout {
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
		if l, ok := data.(LockoutMail); ok && !l.ToAdmin && (f.Name == "Addresses" || f.Name == "UnlockURL" || f.Name == "MemberName") {
			continue
		}
		if l, ok := data.(LockoutMail); ok && l.ToAdmin && f.Name == "LoginURL" {
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

// A mail whose required value is missing is refused, never sent with a
// hole; a mail whose optional values are all absent still reads as whole
// sentences (no "Hello ,", no "by .", no empty parentheses or list). Every
// rendered mail is written to testdata-artifacts/mail/ to be read as its
// recipient reads it (TestEveryMailRenders checks the values are there).
func TestMailsHaveNoHoles(t *testing.T) {
	mails, err := ParseMails()
	if err != nil {
		t.Fatal(err)
	}
	holes := regexp.MustCompile(`(?m)( [,.;:])|(\(\s*\))|(\bas \.)|(\bat \.)|(Hello ,)|(^\s*[,.]\s)|(<strong></strong>)|(<li></li>)|(href="")`)
	dir := filepath.Join("..", "testdata-artifacts", "mail")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, data := range mailCases() {
		name := fmt.Sprintf("%02d-%s", i+1, data.MailName())
		v := reflect.ValueOf(data)
		// Each required field, emptied, makes Render refuse.
		for j := range v.NumField() {
			f := v.Type().Field(j)
			if f.Tag.Get("mail") == "optional" || (f.Type.Kind() != reflect.String && f.Type.Kind() != reflect.Slice) {
				continue
			}
			blank := reflect.New(v.Type()).Elem()
			blank.Set(v)
			blank.Field(j).Set(reflect.Zero(f.Type))
			if _, err := mails.Render(blank.Interface().(MailData)); err == nil || !strings.Contains(err.Error(), f.Name) {
				t.Errorf("%s without %s: %v, want a refusal naming the field", name, f.Name, err)
			}
		}
		// Every optional field emptied at once still reads whole.
		bare := reflect.New(v.Type()).Elem()
		bare.Set(v)
		for j := range v.NumField() {
			if v.Type().Field(j).Tag.Get("mail") == "optional" {
				if l, ok := data.(LockoutMail); ok && l.ToAdmin && v.Type().Field(j).Name == "UnlockURL" {
					continue
				}
				bare.Field(j).Set(reflect.Zero(v.Type().Field(j).Type))
			}
		}
		for variant, d := range map[string]MailData{"full": data, "bare": bare.Interface().(MailData)} {
			m, err := mails.Render(d)
			if err != nil {
				t.Errorf("%s (%s): %v", name, variant, err)
				continue
			}
			body := m.HTML[strings.Index(m.HTML, "<body"):] // the head's stylesheet is not read
			for part, text := range map[string]string{"subject": m.Subject, "text": m.Text, "html": body} {
				if loc := holes.FindStringIndex(text); loc != nil {
					t.Errorf("%s (%s) %s part has a hole near %q:\n%s", name, variant, part,
						text[max(0, loc[0]-40):min(len(text), loc[1]+40)], text)
				}
			}
			base := filepath.Join(dir, name+"-"+variant)
			eml := "Subject: " + m.Subject + "\n\n" + m.Text
			if err := os.WriteFile(base+".txt", []byte(eml), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(base+".html", []byte(m.HTML), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// The HTML part is a styled, accessible page: a language, a title, a
// heading, inline styles (mail clients drop stylesheets), a dark-mode
// stylesheet for the clients that read one, and table layout marked as
// presentation.
func TestMailHTMLIsStyledAndAccessible(t *testing.T) {
	mails, err := ParseMails()
	if err != nil {
		t.Fatal(err)
	}
	for _, data := range mailCases() {
		m, err := mails.Render(data)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{`<html lang="en">`, "<title>", "<h1 ", `name="color-scheme" content="light dark"`,
			"prefers-color-scheme: dark", `role="presentation"`, `style="`} {
			if !strings.Contains(m.HTML, want) {
				t.Errorf("%s: HTML part lacks %s", data.MailName(), want)
			}
		}
		if strings.Contains(m.HTML, "<table>") || strings.Contains(m.HTML, "<script") {
			t.Errorf("%s: a layout table without role=presentation, or a script", data.MailName())
		}
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

// A mail to someone who administers the practice (the owner's setup link,
// an accepted invitation, a lock, emergency access) does not end with
// "Questions? Ask your practice administrator." — they are the one asked;
// mails to members still do.
func TestAdministratorsAreNotToldToAskTheirAdministrator(t *testing.T) {
	mails := mustParse(t)
	const ask = "Ask your practice administrator."
	for _, d := range mailCases() {
		m, err := mails.Render(d)
		if err != nil {
			t.Fatalf("%s: %v", d.MailName(), err)
		}
		toAdmin := d.MailName() == "setup" || d.MailName() == "accepted" || d.MailName() == "elevation" ||
			d.MailName() == "lockout" && d.(LockoutMail).ToAdmin
		if got := strings.Contains(m.HTML, ask); got == toAdmin {
			t.Errorf("%s (to an administrator: %v): footer asks the administrator: %v", d.MailName(), toAdmin, got)
		}
	}
}
