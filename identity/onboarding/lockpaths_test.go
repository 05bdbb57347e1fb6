package onboarding_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/account/accounttest"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
)

// Every password path honours a lock (issue #6 point 4): a reset link issued
// before the lock cannot be redeemed after it, no new reset link is sent, and
// no temporary password is issued until an administrator unlocks.
func TestLockHoldsOnEveryPasswordPath(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		o := accounttest.NewOnboarding(t, st, accounttest.OnboardingOptions{})
		onboardingPractice(t, o, "sunrise")
		owner := "owner@sunrise.example.org"
		if err := o.Onboard.RequestPasswordReset(ctx, "sunrise", owner, account.Meta{}); err != nil {
			t.Fatal(err)
		}
		token := tokenOf(t, linkIn(t, waitMail(t, o.SMTP, owner, 1)))

		p, err := st.PracticeBySlug(ctx, "sunrise")
		if err != nil {
			t.Fatal(err)
		}
		m, err := st.MemberByEmail(ctx, p.ID, owner)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.SetMemberStatus(ctx, m.ID, store.StatusLocked, time.Now()); err != nil {
			t.Fatal(err)
		}

		const next = "copper meadow sprocket tide 52"
		if err := o.Onboard.CompleteReset(ctx, "sunrise", token, next, next, account.Meta{}); err == nil {
			t.Error("a reset link issued before the lock was redeemed after it")
		}
		if _, _, err := o.Service.Login(ctx, "sunrise", owner, strongPw, account.Meta{}); !errors.Is(err, account.ErrInvalidCredentials) {
			t.Errorf("login of a locked member = %v, want ErrInvalidCredentials", err)
		}
		// Past the one-link-per-minute rule, so that only the lock can
		// keep this request from sending a link.
		o.Clock.Advance(2 * time.Minute)
		if err := o.Onboard.RequestPasswordReset(ctx, "sunrise", owner, account.Meta{}); err != nil {
			t.Fatal(err)
		}
		// Proved, not waited for: once the outbox is empty, whatever the
		// request queued has been delivered.
		o.RunPasses(t, o.OutboxEmpty(t))
		if got := len(o.SMTP.To(owner)); got != 1 {
			t.Errorf("%d messages to the locked member, want only the first reset link", got)
		}
		var invalid *account.InvalidInputError
		if _, err := o.Onboard.IssueTemporaryPassword(ctx, "sunrise", account.Operator(), owner, account.Meta{}); !errors.As(err, &invalid) {
			t.Errorf("temporary password for a locked member = %v, want a clear refusal", err)
		}
	})
}
