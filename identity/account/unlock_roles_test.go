package account_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/account/accounttest"
	"github.com/frontdeskhq/frontdesk/identity/roles"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
	"github.com/frontdeskhq/frontdesk/lockout"
)

// Who may unlock follows the practice's role model: in the TherapyNotes
// preset the Practice Administrator holds the unlock permission without
// being the owner, and a clinician does not.
func TestUnlockFollowsRoleModel(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		clock := accounttest.NewClock(time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC))
		rolesSvc, err := roles.New(roles.Deps{Store: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
			Now: clock.Now, NewID: newRoleID()})
		if err != nil {
			t.Fatal(err)
		}
		env := accounttest.New(t, st, accounttest.Options{Permissions: rolesSvc, Clock: clock})
		created, err := env.Service.CreatePractice(ctx, account.NewPractice{Slug: "notes", Name: "Notes Practice",
			OwnerEmail: "owner@example.org", Preset: "therapynotes"}, account.Meta{})
		if err != nil {
			t.Fatal(err)
		}
		add := func(id, email string, status store.MemberStatus, roleKeys ...string) {
			t.Helper()
			if err := st.CreateMember(ctx, store.Member{ID: id, PracticeID: created.PracticeID, Email: email,
				Status: status, Roles: roleKeys, CreatedAt: clock.Now()}); err != nil {
				t.Fatal(err)
			}
		}
		add("admin", "admin@example.org", store.StatusActive, "practice_admin")
		add("clin", "clin@example.org", store.StatusActive, "clinician")
		add("victim", "victim@example.org", store.StatusLocked, "clinician")

		p, err := st.PracticeBySlug(ctx, "notes")
		if err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name  string
			actor string
			want  error
		}{
			{"clinician may not", "clin", lockout.ErrForbidden},
			{"practice administrator may", "admin", nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := env.Service.Locks().Unlock(ctx, p.Lockout(), "victim@example.org", lockout.Actor{MemberID: tt.actor}, lockout.Meta{})
				if !errors.Is(err, tt.want) {
					t.Fatalf("Unlock by %s = %v, want %v", tt.actor, err, tt.want)
				}
			})
		}
		m, _ := st.MemberByID(ctx, created.PracticeID, "victim")
		if m.Status != store.StatusActive {
			t.Errorf("victim status after unlock = %s", m.Status)
		}
	})
}

func newRoleID() func() string {
	var n atomic.Int64
	return func() string { return fmt.Sprintf("role-%d", n.Add(1)) }
}
