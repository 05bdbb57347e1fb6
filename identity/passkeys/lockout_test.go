package passkeys_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/account/accounttest"
	"github.com/frontdeskhq/frontdesk/identity/passkeys/passkeystest"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
	"github.com/frontdeskhq/frontdesk/lockout"
)

// TestPasskeyLoginOfMemberLockedByGuesses (issue 17 point 8): a member locked
// the real way — three wrong passwords counted by the lockout guard — signs
// in with a passkey (virtual authenticator, discoverable and email-first)
// under blocks: password, and is refused under blocks: all, with the refusal
// audited as a locked hwk login. After the unlock the passkey works under
// either policy.
func TestPasskeyLoginOfMemberLockedByGuesses(t *testing.T) {
	for _, tt := range []struct {
		blocks  lockout.Blocks
		allowed bool
	}{{lockout.BlocksPassword, true}, {lockout.BlocksAll, false}} {
		t.Run(string(tt.blocks), func(t *testing.T) {
			storetest.ForEachEngine(t, func(t *testing.T, st *store.Store) {
				ctx := context.Background()
				clock := accounttest.NewClock(time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC))
				acc := accounttest.New(t, st, accounttest.Options{Clock: clock,
					Lockout: lockout.Policy{Threshold: 3, Blocks: tt.blocks},
					Guard:   lockout.New(lockout.NewSQLCounter(st, clock.Now), lockout.Settings{})})
				e := &env{acc: acc, svc: passkeystest.NewService(t, st, acc.Service, clock.Now), st: st}
				pr := e.owner(t, "sunrise")
				a, _ := e.register(t, pr)
				email := pr.Member.Email
				for i := range 3 {
					if _, _, err := acc.Service.Login(ctx, "sunrise", email, goodPassword+" nope", meta); !errors.Is(err, account.ErrInvalidCredentials) {
						t.Fatalf("wrong password %d: %v", i, err)
					}
				}
				m, err := st.MemberByID(ctx, pr.Practice.ID, pr.Member.ID)
				if err != nil || m.Status != store.StatusLocked {
					t.Fatalf("after three wrong passwords: %s, %v; want locked", m.Status, err)
				}
				if _, _, err := acc.Service.Login(ctx, "sunrise", email, goodPassword, meta); !errors.Is(err, account.ErrInvalidCredentials) {
					t.Errorf("password login while locked: %v", err)
				}
				for _, by := range []string{"", email} { // discoverable, email-first
					_, _, err := e.login(t, "sunrise", by, a)
					switch {
					case tt.allowed && err != nil:
						t.Errorf("passkey login (email %q) of a locked member under blocks: password: %v", by, err)
					case !tt.allowed && !errors.Is(err, account.ErrInvalidCredentials):
						t.Errorf("passkey login (email %q) of a locked member under blocks: all: %v, want refused", by, err)
					case !tt.allowed:
						if ev := lastAudit(t, st, pr.Practice.ID, "login"); ev.Outcome != "failure" ||
							ev.Details["reason"] != "locked" || ev.Details["method"] != "hwk" {
							t.Errorf("refusal audit = %+v", ev)
						}
					}
				}
				if _, err := acc.Service.Locks().Unlock(ctx, pr.Practice.Lockout(), email, lockout.Actor{Operator: true}, lockout.Meta(meta)); err != nil {
					t.Fatal(err)
				}
				if _, _, err := e.login(t, "sunrise", "", a); err != nil {
					t.Errorf("passkey login after the unlock: %v", err)
				}
			})
		})
	}
}
