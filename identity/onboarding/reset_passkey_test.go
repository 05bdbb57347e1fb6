package onboarding_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/account/accounttest"
	"github.com/frontdeskhq/frontdesk/identity/onboarding"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
)

// A reset link never bypasses a passkey (issue #5 point 4): a link sent
// before the member enrolled one cannot be opened or redeemed afterwards, no
// new link is sent, and the password stays as it was.
func TestResetLinkDoesNotBypassPasskey(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		o := accounttest.NewOnboarding(t, st, accounttest.OnboardingOptions{})
		onboardingPractice(t, o, "sunrise")
		owner := "owner@sunrise.example.org"
		if err := o.Onboard.RequestPasswordReset(ctx, "sunrise", owner, account.Meta{}); err != nil {
			t.Fatal(err)
		}
		token := tokenOf(t, linkIn(t, waitMail(t, o.SMTP, owner, 1)))

		p, _ := st.PracticeBySlug(ctx, "sunrise")
		m, err := st.MemberByEmail(ctx, p.ID, owner)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.CreatePasskey(ctx, store.Passkey{ID: "pk-1", CredentialID: []byte("cred-1"), PracticeID: p.ID,
			MemberID: m.ID, PublicKey: []byte("pub"), Name: "Laptop", CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}

		if _, err := o.Onboard.OpenResetLink(ctx, "sunrise", token); !errors.Is(err, onboarding.ErrPasskeyRequired) {
			t.Errorf("OpenResetLink = %v, want ErrPasskeyRequired", err)
		}
		const next = "copper meadow sprocket tide 52"
		if err := o.Onboard.CompleteReset(ctx, "sunrise", token, next, next, account.Meta{}); !errors.Is(err, onboarding.ErrPasskeyRequired) {
			t.Errorf("CompleteReset = %v, want ErrPasskeyRequired", err)
		}
		if _, _, err := o.Service.Login(ctx, "sunrise", owner, strongPw, account.Meta{}); err != nil {
			t.Errorf("the old password stopped working: %v", err)
		}
		// Past the one-link-per-minute rule, so that only the passkey can
		// keep this request from sending a link.
		o.Clock.Advance(2 * time.Minute)
		if err := o.Onboard.RequestPasswordReset(ctx, "sunrise", owner, account.Meta{}); err != nil {
			t.Fatal(err)
		}
		// Proved, not waited for: once the outbox is empty, whatever the
		// request queued has been delivered.
		o.RunPasses(t, o.OutboxEmpty(t))
		if got := len(o.SMTP.To(owner)); got != 1 {
			t.Errorf("%d messages, want only the link sent before the passkey", got)
		}
	})
}
