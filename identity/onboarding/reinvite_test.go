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
	"github.com/frontdeskhq/frontdesk/identity/roles"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
)

// TestReinvitePendingNeverReplacesSilently (walkthrough finding 6): inviting
// an address with a pending invitation is refused with that invitation and
// changes nothing; asked to update, it replaces the roles, the old link stops
// working and the new email says so. Updating needs leave to give the roles
// the invitation loses too.
func TestReinvitePendingNeverReplacesSilently(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		o := accounttest.NewOnboarding(t, st, accounttest.OnboardingOptions{})
		ownerID, adminID := onboardingPractice(t, o, "sunrise")
		owner, admin := account.Actor{MemberID: ownerID}, account.Actor{MemberID: adminID}
		const pat = "pat@example.org"
		first, err := o.Onboard.Invite(ctx, "sunrise", admin, onboarding.InviteRequest{Email: pat, Roles: []string{"practitioner"}}, account.Meta{})
		if err != nil {
			t.Fatal(err)
		}
		oldToken := tokenOf(t, linkIn(t, waitMail(t, o.SMTP, pat, 1)))

		// Again, as Biller, without asking to update: 409-shaped refusal.
		_, err = o.Onboard.Invite(ctx, "sunrise", admin, onboarding.InviteRequest{Email: pat, Roles: []string{"biller"}}, account.Meta{})
		pending, ok := errors.AsType[*onboarding.PendingInvitationError](err)
		if !ok || !errors.Is(err, onboarding.ErrPendingInvitation) || pending.Invitation.ID != first.ID ||
			!slices.Equal(pending.Invitation.Roles, []string{"practitioner"}) {
			t.Fatalf("re-invite = %v (%+v); want the pending invitation", err, pending)
		}
		if m, _ := st.MemberByID(ctx, pendingPractice(t, st), first.MemberID); !slices.Equal(m.Roles, []string{"practitioner"}) {
			t.Errorf("roles changed by a refused re-invite: %v", m.Roles)
		}
		if _, err := o.Onboard.OpenInvitation(ctx, "sunrise", oldToken); err != nil {
			t.Errorf("the first link stopped working after a refused re-invite: %v", err)
		}

		// Updating an owner's pending invitation needs leave to give owner.
		if _, err := o.Onboard.Invite(ctx, "sunrise", owner, onboarding.InviteRequest{Email: "boss@example.org", Roles: []string{"owner"}},
			account.Meta{}); err != nil {
			t.Fatal(err)
		}
		_, err = o.Onboard.Invite(ctx, "sunrise", admin, onboarding.InviteRequest{Email: "boss@example.org", Roles: []string{"biller"},
			UpdatePending: true}, account.Meta{})
		if !errors.Is(err, account.ErrForbidden) {
			t.Errorf("administrator replacing an owner's invitation: %v; want forbidden", err)
		}

		// Asked to update: replaced, old link void, the email says so.
		second, err := o.Onboard.Invite(ctx, "sunrise", admin, onboarding.InviteRequest{Email: pat, Roles: []string{"biller"},
			UpdatePending: true}, account.Meta{})
		if err != nil || second.ID == first.ID || !slices.Equal(second.Roles, []string{"biller"}) {
			t.Fatalf("update = %+v, %v", second, err)
		}
		if _, err := o.Onboard.OpenInvitation(ctx, "sunrise", oldToken); !errors.Is(err, account.ErrLinkInvalid) {
			t.Errorf("the first link still works after the update: %v", err)
		}
		msg := waitMail(t, o.SMTP, pat, 2)
		if text, _ := msg.Part("text/plain"); !strings.Contains(text, "no longer works") {
			t.Errorf("the updated invitation's email does not say the earlier link stopped working:\n%s", text)
		}
		if _, err := o.Onboard.OpenInvitation(ctx, "sunrise", tokenOf(t, linkIn(t, msg))); err != nil {
			t.Errorf("the new link: %v", err)
		}
	})
}

func pendingPractice(t *testing.T, st *store.Store) string {
	t.Helper()
	p, err := st.PracticeBySlug(context.Background(), "sunrise")
	if err != nil {
		t.Fatal(err)
	}
	return p.ID
}

// The supervision chosen with an invitation belongs to it: an updated
// invitation decides it again (none given is none), and a revoked one ends
// it, so no supervisor lists an invitee who will never join.
func TestInvitationSupervisionEndsWithTheInvitation(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		o := accounttest.NewOnboarding(t, st, accounttest.OnboardingOptions{})
		ownerID, _ := onboardingPractice(t, o, "sunrise")
		owner := account.Actor{MemberID: ownerID}
		p, err := o.Service.Practice(ctx, "sunrise")
		if err != nil {
			t.Fatal(err)
		}
		if err := st.CreateMember(ctx, store.Member{ID: "sup", PracticeID: p.ID, Email: "sup@example.org", DisplayName: "Sam Supervisor",
			Status: store.StatusActive, Roles: []string{"practitioner", "supervisor"}, CreatedAt: o.Clock.Now()}); err != nil {
			t.Fatal(err)
		}
		supervised := []roles.SupervisorLink{{SupervisorID: "sup", CosignNotes: true}}
		supervisorsOf := func(memberID string) int {
			t.Helper()
			list, err := st.Supervisors(ctx, memberID)
			if err != nil {
				t.Fatal(err)
			}
			return len(list)
		}
		for _, tc := range []struct {
			name string
			then func(inv onboarding.Invitation) error
		}{
			{"updated without a supervisor", func(inv onboarding.Invitation) error {
				_, err := o.Onboard.Invite(ctx, "sunrise", owner, onboarding.InviteRequest{Email: inv.Email,
					Roles: []string{"biller"}, UpdatePending: true}, account.Meta{})
				return err
			}},
			{"revoked", func(inv onboarding.Invitation) error {
				return o.Onboard.RevokeInvitation(ctx, "sunrise", owner, inv.ID, account.Meta{})
			}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				email := strings.ReplaceAll(tc.name, " ", "-") + "@example.org"
				inv, err := o.Onboard.Invite(ctx, "sunrise", owner, onboarding.InviteRequest{Email: email,
					Roles: []string{"practitioner"}, Supervisors: supervised}, account.Meta{})
				if err != nil {
					t.Fatal(err)
				}
				if n := supervisorsOf(inv.MemberID); n != 1 {
					t.Fatalf("invited with a supervisor: %d supervisors", n)
				}
				if err := tc.then(inv); err != nil {
					t.Fatal(err)
				}
				if n := supervisorsOf(inv.MemberID); n != 0 {
					t.Errorf("%s: the invitee still has %d supervisors", tc.name, n)
				}
			})
		}
	})
}
