package onboarding_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/account/accounttest"
	"github.com/frontdeskhq/frontdesk/identity/onboarding"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
)

// TestMailsSpeakToPeople (issue 18 point 9): every mail of a member's life
// handled here — invitation, acceptance notice, temporary password, reset —
// greets its recipient by name, says who acted by name
// and role (never "an administrator"), gives times in the practice's time
// zone. Both parts are checked. (The lock notices and the unlock mail:
// TestConsoleLockMails in identity/adminapi.)
func TestMailsSpeakToPeople(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		o := accounttest.NewOnboarding(t, st, accounttest.OnboardingOptions{})
		ownerID, _ := onboardingPractice(t, o, "sunrise")
		tz := "America/Chicago"
		if _, err := o.Service.SetPracticeSettings(ctx, "sunrise", account.Operator(), account.PracticeSettingsUpdate{TimeZone: &tz}, account.Meta{}); err != nil {
			t.Fatal(err)
		}
		owner := account.Actor{MemberID: ownerID}
		const who = "Olive Owner (Account Owner)"
		zone := func(s string) bool { return strings.Contains(s, " CST") || strings.Contains(s, " CDT") }
		both := func(m interface{ Part(string) (string, error) }) (string, string) {
			text, err := m.Part("text/plain")
			if err != nil {
				t.Fatal(err)
			}
			html, err := m.Part("text/html")
			if err != nil {
				t.Fatal(err)
			}
			return text, html
		}
		check := func(name, text, html string, want ...string) {
			t.Helper()
			for _, w := range want {
				if !strings.Contains(text, w) {
					t.Errorf("%s text part lacks %q:\n%s", name, w, text)
				}
				if !strings.Contains(strings.ReplaceAll(html, "&#39;", "'"), strings.ReplaceAll(w, "&", "&amp;")) {
					t.Errorf("%s HTML part lacks %q", name, w)
				}
			}
			for _, bad := range []string{"An administrator", "an administrator at", " UTC", "<no value>"} {
				if strings.Contains(text, bad) {
					t.Errorf("%s says %q:\n%s", name, bad, text)
				}
			}
			if !zone(text) {
				t.Errorf("%s gives no time in the practice's zone:\n%s", name, text)
			}
		}

		inv, err := o.Onboard.Invite(ctx, "sunrise", owner, onboarding.InviteRequest{Email: "nina@example.org", Name: "Nina New",
			Roles: []string{"practitioner"}}, account.Meta{})
		if err != nil {
			t.Fatal(err)
		}
		msg := waitMail(t, o.SMTP, "nina@example.org", 1)
		text, html := both(msg)
		check("invitation", text, html, "Hello Nina New,", who+" has invited you", "https://id.example.org/p/sunrise/login")
		if _, err := o.Onboard.AcceptInvitation(ctx, "sunrise", tokenOf(t, linkIn(t, msg)), strongPw, strongPw, account.Meta{}); err != nil {
			t.Fatal(err)
		}
		text, html = both(waitMail(t, o.SMTP, "owner@sunrise.example.org", 1))
		check("acceptance notice", text, html, "Hello Olive Owner,", "Nina New (nina@example.org) accepted",
			"https://id.example.org/p/sunrise/admin/members/"+inv.MemberID)

		if _, err := o.Onboard.IssueTemporaryPassword(ctx, "sunrise", owner, "nina@example.org", account.Meta{}); err != nil {
			t.Fatal(err)
		}
		text, html = both(waitMail(t, o.SMTP, "nina@example.org", 2))
		check("temporary password", text, html, "Hello Nina New,", who+" has issued a temporary password")

		o.Clock.Advance(2 * time.Minute)
		if err := o.Onboard.RequestPasswordReset(ctx, "sunrise", "nina@example.org", account.Meta{}); err != nil {
			t.Fatal(err)
		}
		text, html = both(waitMail(t, o.SMTP, "nina@example.org", 3))
		check("reset", text, html, "Hello Nina New,", "Someone asked at")
	})
}
