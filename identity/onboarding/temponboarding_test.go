package onboarding_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/account/accounttest"
	"github.com/frontdeskhq/frontdesk/identity/onboarding"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
)

// TestOnboardingByTemporaryPassword (issue 18 point 4, seed 004): a
// practice that onboards by temporary password — the Manager Module
// preset's default, or any practice's choice — creates access by emailing a
// temporary password, not an invitation link; the first login with it
// activates the member into a session that can only set their own password;
// the other presets keep invitation links, and nobody else gets a temporary
// password before accepting.
func TestOnboardingByTemporaryPassword(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		o := accounttest.NewOnboarding(t, st, accounttest.OnboardingOptions{})
		ownerID, _ := onboardingPractice(t, o, "sunrise")
		owner := account.Actor{MemberID: ownerID}

		// The presets' defaults.
		for _, tt := range []struct {
			preset string
			temp   bool
		}{{"manager-module", true}, {"sessions", false}, {"therapynotes", false}, {"aba", false}, {"zencare", false}} {
			slug := "p-" + strings.ReplaceAll(tt.preset, "-", "")
			if _, err := o.Service.CreatePractice(ctx, account.NewPractice{Slug: slug, Name: tt.preset, OwnerEmail: "o@" + slug + ".example.org",
				Preset: tt.preset}, account.Meta{}); err != nil {
				t.Fatal(err)
			}
			if got, err := o.Service.OnboardsByTemporaryPassword(ctx, slug); err != nil || got != tt.temp {
				t.Errorf("%s onboards by temporary password: %v, %v; want %v", tt.preset, got, err, tt.temp)
			}
		}

		// An invitation practice: a link, and no temporary password before
		// acceptance.
		if _, err := o.Onboard.Invite(ctx, "sunrise", owner, onboarding.InviteRequest{Email: "ivy@example.org", Name: "Ivy",
			Roles: []string{"practitioner"}}, account.Meta{}); err != nil {
			t.Fatal(err)
		}
		if text, _ := waitMail(t, o.SMTP, "ivy@example.org", 1).Part("text/plain"); !strings.Contains(text, "/invite?token=") {
			t.Errorf("invitation practice sent:\n%s", text)
		}
		var invalid *account.InvalidInputError
		if _, err := o.Onboard.IssueTemporaryPassword(ctx, "sunrise", owner, "ivy@example.org", account.Meta{}); !errors.As(err, &invalid) {
			t.Errorf("temporary password to an invitee of an invitation practice: %v", err)
		}

		// The practice switches to temporary passwords.
		mode := store.OnboardingTemporaryPassword
		if _, err := o.Service.SetPracticeSettings(ctx, "sunrise", owner, account.PracticeSettingsUpdate{Onboarding: &mode}, account.Meta{}); err != nil {
			t.Fatal(err)
		}
		inv, err := o.Onboard.Invite(ctx, "sunrise", owner, onboarding.InviteRequest{Email: "nina@example.org", Name: "Nina New",
			Roles: []string{"practitioner"}}, account.Meta{})
		if err != nil {
			t.Fatal(err)
		}
		msg := waitMail(t, o.SMTP, "nina@example.org", 1)
		text, _ := msg.Part("text/plain")
		if strings.Contains(text, "/invite?token=") || !strings.Contains(text, "has created your access to") ||
			!strings.Contains(text, "as Practitioner") || !strings.Contains(text, "Hello Nina New,") {
			t.Fatalf("access mail:\n%s", text)
		}
		// Resending gives a new temporary password, never the link; the
		// first one stops working.
		if _, err := o.Onboard.ResendInvitation(ctx, "sunrise", owner, inv.ID, account.Meta{}); err != nil {
			t.Fatal(err)
		}
		first := temporaryIn(t, msg)
		msg = waitMail(t, o.SMTP, "nina@example.org", 2)
		if text, _ := msg.Part("text/plain"); strings.Contains(text, "/invite?token=") || !strings.Contains(text, "has created your access to") {
			t.Fatalf("resent access mail:\n%s", text)
		}
		temp := temporaryIn(t, msg)
		if _, _, err := o.Service.Login(ctx, "sunrise", "nina@example.org", first, account.Meta{}); err == nil {
			t.Fatal("the first temporary password still works after a resend")
		}
		sunrise, _ := o.Service.Practice(ctx, "sunrise")
		if m, _ := st.MemberByID(ctx, sunrise.ID, inv.MemberID); m.Status != store.StatusInvited {
			t.Fatal("active before the first login")
		}
		// A wrong password is refused like any other; the invitee stays invited.
		if _, _, err := o.Service.Login(ctx, "sunrise", "nina@example.org", "not it at all, no", account.Meta{}); !errors.Is(err, account.ErrInvalidCredentials) {
			t.Errorf("wrong password: %v", err)
		}
		pr, token, err := o.Service.Login(ctx, "sunrise", "nina@example.org", temp, account.Meta{})
		if err != nil || !pr.MustChangePassword || pr.Member.Status != store.StatusActive {
			t.Fatalf("first login: %+v, %v", pr, err)
		}
		list, _ := o.Onboard.Invitations(ctx, "sunrise", owner)
		for _, i := range list {
			if i.ID == inv.ID && i.State != store.InvitationAccepted {
				t.Errorf("invitation after the first login: %s", i.State)
			}
		}
		if _, err := o.Service.Authenticate(ctx, "sunrise", token); !errors.Is(err, account.ErrPasswordChangeRequired) {
			t.Errorf("the first session is not restricted: %v", err)
		}
		if _, _, err := o.Service.Login(ctx, "sunrise", "nina@example.org", temp, account.Meta{}); err == nil {
			t.Error("the temporary password worked twice")
		}
		restricted, err := o.Service.AuthenticateRestricted(ctx, "sunrise", token)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := o.Service.SetRequiredPassword(ctx, restricted, strongPw, strongPw, account.Meta{}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := o.Service.Login(ctx, "sunrise", "nina@example.org", strongPw, account.Meta{}); err != nil {
			t.Errorf("login with the chosen password: %v", err)
		}

		// An invitee of a practice that switched back gets no access from
		// an earlier temporary password.
		if _, err := o.Onboard.Invite(ctx, "sunrise", owner, onboarding.InviteRequest{Email: "otto@example.org",
			Roles: []string{"practitioner"}}, account.Meta{}); err != nil {
			t.Fatal(err)
		}
		otto := temporaryIn(t, waitMail(t, o.SMTP, "otto@example.org", 1))
		mode = store.OnboardingInvitation
		if _, err := o.Service.SetPracticeSettings(ctx, "sunrise", owner, account.PracticeSettingsUpdate{Onboarding: &mode}, account.Meta{}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := o.Service.Login(ctx, "sunrise", "otto@example.org", otto, account.Meta{}); err == nil {
			t.Error("a temporary password opened an invited account after the practice went back to invitations")
		}
	})
}

// A temporary password emailed instead of an invitation link belongs to the
// invitation: once the invitation is revoked, the password opens nothing —
// the invitee stays invited and gets the refusal any wrong password gets —
// whether it was voided with the invitation or (as for a password issued
// before this rule) is still on record, because activation itself needs an
// open invitation.
func TestRevokedInvitationsTemporaryPasswordOpensNothing(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		o := accounttest.NewOnboarding(t, st, accounttest.OnboardingOptions{})
		ownerID, _ := onboardingPractice(t, o, "sunrise")
		owner := account.Actor{MemberID: ownerID}
		mode := store.OnboardingTemporaryPassword
		if _, err := o.Service.SetPracticeSettings(ctx, "sunrise", owner, account.PracticeSettingsUpdate{Onboarding: &mode}, account.Meta{}); err != nil {
			t.Fatal(err)
		}
		sunrise, _ := o.Service.Practice(ctx, "sunrise")
		for i, tc := range []struct {
			name string
			// revoke ends the invitation.
			revoke func(inv onboarding.Invitation)
		}{
			{"revoked through the service", func(inv onboarding.Invitation) {
				if err := o.Onboard.RevokeInvitation(ctx, "sunrise", owner, inv.ID, account.Meta{}); err != nil {
					t.Fatal(err)
				}
			}},
			{"revoked with the password left on record", func(inv onboarding.Invitation) {
				if err := st.RevokeInvitation(ctx, inv.ID, o.Clock.Now()); err != nil {
					t.Fatal(err)
				}
			}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				email := []string{"rita@example.org", "rory@example.org"}[i]
				inv, err := o.Onboard.Invite(ctx, "sunrise", owner, onboarding.InviteRequest{Email: email, Name: "Revoked",
					Roles: []string{"practitioner"}}, account.Meta{})
				if err != nil {
					t.Fatal(err)
				}
				temp := temporaryIn(t, waitMail(t, o.SMTP, email, 1))
				tc.revoke(inv)
				if _, _, err := o.Service.Login(ctx, "sunrise", email, temp, account.Meta{}); !errors.Is(err, account.ErrInvalidCredentials) {
					t.Errorf("login with the revoked invitation's temporary password: %v, want the usual refusal", err)
				}
				if m, _ := st.MemberByID(ctx, sunrise.ID, inv.MemberID); m.Status != store.StatusInvited {
					t.Errorf("member is %s after a login with a revoked invitation's password", m.Status)
				}
			})
		}
	})
}
