package browser

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/frontdeskhq/frontdesk/templates"
)

// TestMailHTMLInChromium renders the HTML part of every kind of mail and
// opens it in Chromium as a mail client with a browser engine shows it, at a
// phone's width and a laptop's, in light and dark mode: it fits without
// sideways scrolling, passes axe-core (no violations) and is kept as a
// screenshot to be looked at.
func TestMailHTMLInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test; skipped with -short")
	}
	t.Parallel()
	axe := axeSource(t)
	chromiumPath(t)
	dir := artefacts(t)
	mails, err := templates.ParseMails()
	if err != nil {
		t.Fatal(err)
	}
	const base = "https://id.example.org/p/sunrise/"
	cases := []templates.MailData{
		templates.InvitationMail{PracticeName: "Sunrise Therapy", RecipientName: "Sam Lee", InviterName: "Dana Reyes (Practice Administrator)",
			RoleNames: []string{"Clinician", "Supervisor"}, Link: base + "invite?token=Sv3WByN_yNUPwKzpxVE8OQhXNOeAmSLmTeR2UJTKfvw",
			Expires: "Sun 13 Dec 2026, 09:17 CST", LoginURL: base + "login"},
		templates.TemporaryPasswordMail{PracticeName: "Sunrise Therapy", RecipientName: "Kim Park", ActorName: "Dana Reyes (Practice Administrator)",
			Email: "kim@example.org", Password: "Rv7-ku2q-Ms9w", LoginURL: base + "login", Expires: "Mon 7 Dec 2026, 10:00 CST",
			NewAccess: true, RoleNames: []string{"Office Staff"}},
		templates.LockoutMail{PracticeName: "Sunrise Therapy", RecipientName: "Dana Reyes", MemberName: "Sam Lee", MemberEmail: "sam@example.org",
			Attempts: 3, LockedAt: "Wed 9 Dec 2026, 10:00 CST", Addresses: []string{"203.0.113.7"}, LoginURL: base + "login",
			UnlockURL: base + "admin/members/m-2/unlock", ToAdmin: true},
		templates.UnlockMail{PracticeName: "Sunrise Therapy", RecipientName: "Sam Lee", MemberEmail: "sam@example.org",
			ActorName: "Dana Reyes (Practice Administrator)", UnlockedAt: "Wed 9 Dec 2026, 11:00 CST", LoginURL: base + "login"},
		templates.ResetMail{PracticeName: "Sunrise Therapy", RecipientName: "Kim Park", Link: base + "reset?token=abc",
			Expires: "Tue 8 Dec 2026, 10:00 CST", RequestedAt: "Tue 8 Dec 2026, 09:00 CST"},
	}
	pages := map[string]string{}
	for _, c := range cases {
		m, err := mails.Render(c)
		if err != nil {
			t.Fatal(err)
		}
		name := c.MailName()
		if l, ok := c.(templates.LockoutMail); ok && l.ToAdmin {
			name += "-admin"
		}
		pages["/"+name] = m.HTML
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(pages[r.URL.Path]))
	}))
	t.Cleanup(srv.Close)

	b := newTab(t, dir, axe)
	for _, c := range cases {
		name := c.MailName()
		if l, ok := c.(templates.LockoutMail); ok && l.ToAdmin {
			name += "-admin"
		}
		b.visit(srv.URL+"/"+name, "h1")
		for _, scheme := range []string{"light", "dark"} {
			ctx, cancel := context.WithCancel(b.ctx)
			_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
				Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}})
			cancel()
			if err != nil {
				b.fail("emulate "+scheme+" mode", err)
			}
			b.atBothWidths("mail-" + name + "-" + scheme)
			if scheme == "dark" {
				bg := b.waitJS("the card's background", `getComputedStyle(document.querySelector(".card")).backgroundColor`)
				if strings.Contains(bg, "255, 255, 255") {
					t.Errorf("%s in dark mode keeps a white card (%s)", name, bg)
				}
			}
		}
	}
}
