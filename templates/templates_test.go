package templates_test

import (
	"strings"
	"testing"

	"github.com/frontdeskhq/frontdesk/templates"
)

type practice struct{ Name, Slug string }

func TestPagesRenderAndEscape(t *testing.T) {
	pages, err := templates.ParsePages()
	if err != nil {
		t.Fatal(err)
	}
	evil := `<script>alert(1)</script>`
	data := map[string]any{
		"Practice": practice{Name: "Sunrise " + evil, Slug: "sunrise"},
		"Member":   map[string]any{"Name": evil, "Email": "a@example.org", "Roles": []string{"owner"}},
		"Error":    evil, "Email": evil, "Token": `"><b>`, "MinLength": 15,
		"Title": "T", "Message": evil, "AuthTime": "now", "Method": "password",
	}
	for _, name := range []string{"login", "home", "setup", "password", "message", "logout"} {
		t.Run(name, func(t *testing.T) {
			out, err := pages.Render(name, data)
			if err != nil {
				t.Fatal(err)
			}
			html := string(out)
			if strings.Contains(html, "<script>") || strings.Contains(html, `"><b>`) {
				t.Errorf("unescaped input in %s:\n%s", name, html)
			}
			if !strings.Contains(html, `<link rel="stylesheet" href="/static/style.css">`) || strings.Contains(html, "style=") {
				t.Errorf("%s: inline style or missing stylesheet", name)
			}
		})
	}
	if _, err := pages.Render("nope", nil); err == nil {
		t.Error("unknown page rendered")
	}
}

func TestMails(t *testing.T) {
	mails, err := templates.ParseMails()
	if err != nil {
		t.Fatal(err)
	}
	link := "https://id.example.org/p/sunrise/setup?token=abc&x=1"
	m, err := mails.Render(templates.SetupMail{PracticeName: "Sunrise <Therapy>", Link: link, Expires: "Fri", LoginURL: "https://id.example.org/p/sunrise/login"})
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "Set up your Sunrise <Therapy> account" {
		t.Errorf("subject %q", m.Subject)
	}
	if !strings.Contains(m.Text, "\n"+link+"\n") {
		t.Errorf("text part does not carry the link alone on a line:\n%s", m.Text)
	}
	if strings.Contains(m.HTML, "<Therapy>") || !strings.Contains(m.HTML, "&amp;x=1") {
		t.Errorf("HTML part not escaped:\n%s", m.HTML)
	}
	if _, err := templates.Static().Open("style.css"); err != nil {
		t.Error(err)
	}
}

// The second password box of every password form is named for what it holds:
// its label names the field for a screen reader and names its Show button
// (password-toggle.js: "Show " + the label). "Type it again" made that
// "Show type it again".
func TestConfirmPasswordFieldsAreNamed(t *testing.T) {
	pages, err := templates.ParsePages()
	if err != nil {
		t.Fatal(err)
	}
	data := map[string]any{
		"Practice": practice{Name: "Sunrise", Slug: "sunrise"},
		"Member":   map[string]any{"Name": "Olive", "Email": "a@example.org", "Roles": []string{"owner"}},
		"Email":    "a@example.org", "Token": "t", "MinLength": 15,
	}
	for _, name := range []string{"setup", "invite", "reset", "newpassword", "password"} {
		out, err := pages.Render(name, data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !strings.Contains(string(out), `<label for="confirm_password">New password again</label>`) {
			t.Errorf("%s: the second password box is not labelled \"New password again\"", name)
		}
	}
}
