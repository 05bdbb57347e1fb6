package account_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/account/accounttest"
	"github.com/frontdeskhq/frontdesk/identity/problem"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
)

// Taking away what a member may do follows the delegation model as giving
// does: an administrator who cannot give the owner role cannot deactivate
// an owner (which would hand the practice to the administrator), while an
// owner deactivates an administrator, an administrator a practitioner, and
// the operator anyone. A refusal names the member and says whom to ask,
// never a permission string, and changes nothing.
func TestDeactivationFollowsDelegation(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		o := accounttest.NewOnboarding(t, st, accounttest.OnboardingOptions{})
		ownerID, adminID := o.Practice(t, "sunrise")
		p, err := o.Service.Practice(ctx, "sunrise")
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{"pract", "owner2"} {
			roles := []string{"practitioner"}
			if id == "owner2" {
				roles = []string{"owner"}
			}
			if err := st.CreateMember(ctx, store.Member{ID: id, PracticeID: p.ID, Email: id + "@example.org",
				DisplayName: "Member " + id, Status: store.StatusActive, Roles: roles, CreatedAt: o.Clock.Now()}); err != nil {
				t.Fatal(err)
			}
		}
		for _, tc := range []struct {
			name   string
			actor  account.Actor
			target string
			ok     bool
		}{
			{"administrator deactivates the owner", account.Actor{MemberID: adminID}, ownerID, false},
			{"administrator deactivates a second owner", account.Actor{MemberID: adminID}, "owner2", false},
			{"administrator deactivates a practitioner", account.Actor{MemberID: adminID}, "pract", true},
			{"owner deactivates the administrator", account.Actor{MemberID: ownerID}, adminID, true},
			{"operator deactivates the second owner", account.Operator(), "owner2", true},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := o.Service.DeactivateMember(ctx, "sunrise", tc.actor, tc.target, account.Meta{})
				m, rerr := st.MemberByID(ctx, p.ID, tc.target)
				if rerr != nil {
					t.Fatal(rerr)
				}
				if tc.ok {
					if err != nil || m.Status != store.StatusDeactivated {
						t.Fatalf("DeactivateMember: %v, status %s; want deactivated", err, m.Status)
					}
					return
				}
				if !errors.Is(err, account.ErrForbidden) {
					t.Fatalf("DeactivateMember: %v, want ErrForbidden", err)
				}
				pe, _ := problem.As(err)
				if pe == nil || !strings.Contains(pe.Public, "You can't deactivate Member") && !strings.Contains(pe.Public, "You can't deactivate Olive") ||
					!strings.Contains(pe.Public, "ask the practice owner") || strings.Contains(pe.Public, ".manage") {
					t.Errorf("refusal %q: want the member's name and whom to ask, no permission string", pe.Public)
				}
				if m.Status != store.StatusActive {
					t.Errorf("refused, yet the member is %s", m.Status)
				}
			})
		}
	})
}
