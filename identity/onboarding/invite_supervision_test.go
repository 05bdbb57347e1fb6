package onboarding_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/account/accounttest"
	"github.com/frontdeskhq/frontdesk/identity/onboarding"
	"github.com/frontdeskhq/frontdesk/identity/problem"
	"github.com/frontdeskhq/frontdesk/identity/roles"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
)

// An invitation and the supervision asked for with it are one transaction:
// when the supervision step really fails — the supervisor was deactivated
// between the form and the submit, holds no supervisor role, or is listed
// twice (the database's unique constraint) — no member, invitation or mail is
// left behind, and an updated invitation keeps what it had. The refusal says
// what to do next. (Before, the invitation committed and was mailed first,
// and the supervisors were set after, so a refusal left an invitee without
// the supervision the administrator asked for.)
func TestInvitationWithRefusedSupervisorLeavesNothing(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		o := accounttest.NewOnboarding(t, st, accounttest.OnboardingOptions{NoWorker: true})
		ownerID, _ := onboardingPractice(t, o, "sunrise")
		owner := account.Actor{MemberID: ownerID}
		pid := pendingPractice(t, st)
		for _, m := range []store.Member{
			{ID: "sup", Email: "sup@example.org", DisplayName: "Sam Supervisor", Roles: []string{"practitioner", "supervisor"}},
			{ID: "gone", Email: "gone@example.org", DisplayName: "Gil Gone", Roles: []string{"practitioner", "supervisor"}},
			{ID: "plain", Email: "plain@example.org", DisplayName: "Pat Plain", Roles: []string{"practitioner"}},
		} {
			m.PracticeID, m.Status, m.CreatedAt = pid, store.StatusActive, o.Clock.Now()
			if err := st.CreateMember(ctx, m); err != nil {
				t.Fatal(err)
			}
		}
		// The form offered Gil; Gil left before the administrator pressed Send.
		if err := st.SetMemberStatus(ctx, "gone", store.StatusDeactivated, o.Clock.Now()); err != nil {
			t.Fatal(err)
		}
		pendingMail := func() int {
			t.Helper()
			n, err := st.CountOutboxPending(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		invitationsTo := func(email string) int {
			t.Helper()
			list, err := o.Onboard.Invitations(ctx, "sunrise", owner)
			if err != nil {
				t.Fatal(err)
			}
			return len(slices.DeleteFunc(list, func(i onboarding.Invitation) bool { return !strings.EqualFold(i.Email, email) }))
		}
		supervisorsOf := func(memberID string) []store.Supervision {
			t.Helper()
			list, err := st.Supervisors(ctx, memberID)
			if err != nil {
				t.Fatal(err)
			}
			return list
		}
		checkRefusal := func(t *testing.T, err error) {
			t.Helper()
			if !errors.Is(err, onboarding.ErrSupervisorRefused) || !errors.Is(err, roles.ErrInvalid) {
				t.Errorf("Invite = %v; want the supervision's refusal", err)
				return
			}
			p, ok := problem.As(err)
			if !ok || p.Kind != problem.Invalid || !strings.Contains(p.Public, "nothing was saved") ||
				!strings.Contains(p.Public, "Choose another supervisor, or invite without one") {
				t.Errorf("public text %q: want what happened and what to do next", p.Public)
			}
		}
		refusals := []struct {
			name string
			sups []roles.SupervisorLink
		}{
			{"deactivated since the form", []roles.SupervisorLink{{SupervisorID: "gone", CosignNotes: true}}},
			{"without a supervisor role", []roles.SupervisorLink{{SupervisorID: "plain"}}},
			{"listed twice", []roles.SupervisorLink{{SupervisorID: "sup"}, {SupervisorID: "sup", CosignNotes: true}}},
		}

		t.Run("new invitation", func(t *testing.T) {
			for _, tc := range refusals {
				email := strings.ReplaceAll(tc.name, " ", "-") + "@example.org"
				before := pendingMail()
				_, err := o.Onboard.Invite(ctx, "sunrise", owner, onboarding.InviteRequest{Email: email,
					Roles: []string{"practitioner"}, Supervisors: tc.sups}, account.Meta{})
				checkRefusal(t, err)
				if _, err := st.MemberByEmail(ctx, pid, email); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("%s: a member was left behind: %v", tc.name, err)
				}
				if n := invitationsTo(email); n != 0 {
					t.Errorf("%s: %d invitations were left behind", tc.name, n)
				}
				if n := pendingMail(); n != before {
					t.Errorf("%s: %d messages queued, want %d", tc.name, n, before)
				}
			}
			// Whatever was queued is attempted; nothing reaches the refused addresses.
			o.RunPasses(t, func() bool { return pendingMail() == 0 })
			for _, tc := range refusals {
				if got := o.SMTP.To(strings.ReplaceAll(tc.name, " ", "-") + "@example.org"); len(got) != 0 {
					t.Errorf("%s: %d messages were sent", tc.name, len(got))
				}
			}
		})

		t.Run("updated invitation", func(t *testing.T) {
			const pat = "pat@example.org"
			first, err := o.Onboard.Invite(ctx, "sunrise", owner, onboarding.InviteRequest{Email: pat,
				Roles: []string{"practitioner"}, Supervisors: []roles.SupervisorLink{{SupervisorID: "sup", CosignNotes: true}}}, account.Meta{})
			if err != nil {
				t.Fatal(err)
			}
			o.RunPasses(t, func() bool { return len(o.SMTP.To(pat)) == 1 })
			token := tokenOf(t, linkIn(t, o.SMTP.To(pat)[0]))
			for _, tc := range refusals {
				_, err := o.Onboard.Invite(ctx, "sunrise", owner, onboarding.InviteRequest{Email: pat, Roles: []string{"biller"},
					Supervisors: tc.sups, UpdatePending: true}, account.Meta{})
				checkRefusal(t, err)
				if m, err := st.MemberByID(ctx, pid, first.MemberID); err != nil || !slices.Equal(m.Roles, []string{"practitioner"}) {
					t.Errorf("%s: the invitee's roles became %v (%v)", tc.name, m.Roles, err)
				}
				if got := supervisorsOf(first.MemberID); len(got) != 1 || got[0].SupervisorID != "sup" || !got[0].CosignNotes {
					t.Errorf("%s: the invitation's supervision became %+v", tc.name, got)
				}
				if _, err := o.Onboard.OpenInvitation(ctx, "sunrise", token); err != nil {
					t.Errorf("%s: the invitation's link stopped working: %v", tc.name, err)
				}
				if n := invitationsTo(pat); n != 1 {
					t.Errorf("%s: %d invitations to %s, want the first alone", tc.name, n, pat)
				}
				if n := pendingMail(); n != 0 {
					t.Errorf("%s: %d messages queued", tc.name, n)
				}
			}
			o.RunPasses(t, func() bool { return pendingMail() == 0 })
			if got := o.SMTP.To(pat); len(got) != 1 {
				t.Errorf("%d messages to %s, want the first invitation's alone", len(got), pat)
			}
		})

		t.Run("accepted supervision commits with the invitation", func(t *testing.T) {
			inv, err := o.Onboard.Invite(ctx, "sunrise", owner, onboarding.InviteRequest{Email: "ivy@example.org",
				Roles: []string{"practitioner"}, Supervisors: []roles.SupervisorLink{{SupervisorID: "sup", CosignTreatmentPlans: true}}},
				account.Meta{})
			if err != nil {
				t.Fatal(err)
			}
			if got := supervisorsOf(inv.MemberID); len(got) != 1 || got[0].SupervisorID != "sup" || !got[0].CosignPlans {
				t.Errorf("supervision = %+v", got)
			}
			if n := pendingMail(); n != 1 {
				t.Errorf("%d messages queued, want the invitation", n)
			}
		})
	})
}
