package roles_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/roles"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
	"github.com/frontdeskhq/frontdesk/templates"
)

// Emergency-access notices go through the durable mail outbox in the
// transaction that grants the elevation: one row per administrator (members
// holding audit.view) when the grant commits, none when it does not.
func TestElevationNoticeQueuedWithGrant(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := newFixture(t, st, "aba")
		f.member(t, "main", "owner")
		f.member(t, "main2", "owner")
		f.member(t, "bt1", "bt")
		mails, err := templates.ParseMails()
		if err != nil {
			t.Fatal(err)
		}
		woken := 0
		ids := 0
		newSvc := func(notify func(context.Context, *store.Store, roles.ElevationNotice) error) *roles.Service {
			svc, err := roles.New(roles.Deps{Store: st, Now: func() time.Time { return t0 },
				NewID: func() string { ids++; return "el-" + string(rune('a'+ids)) }, NotifyTx: notify, Queued: func() { woken++ }})
			if err != nil {
				t.Fatal(err)
			}
			return svc
		}
		perms := []string{"clinical_notes.view:all"}
		const reason = "client in crisis, BT covering tonight"

		// A notice that cannot be queued stops the grant: no elevation
		// without its notice.
		broken := newSvc(func(context.Context, *store.Store, roles.ElevationNotice) error { return errors.New("disk full") })
		if _, err := broken.GrantElevation(ctx, f.actor("main"), "bt1", perms, time.Hour, reason, roles.Meta{}); err == nil {
			t.Fatal("grant succeeded although its notice could not be queued")
		}
		if eff, _ := broken.Effective(ctx, f.pid, "bt1"); eff.Elevated {
			t.Fatal("elevation stored although its notice failed")
		}

		svc := newSvc(roles.OutboxNotifier(mails))
		e, err := svc.GrantElevation(ctx, f.actor("main"), "bt1", perms, time.Hour, reason, roles.Meta{})
		if err != nil {
			t.Fatal(err)
		}
		if woken != 1 {
			t.Errorf("outbox worker woken %d times, want 1", woken)
		}
		rows, err := st.ClaimOutbox(ctx, "test-worker", t0.Add(time.Minute), time.Minute, 10)
		if err != nil {
			t.Fatal(err)
		}
		var to []string
		for _, r := range rows {
			m := r.Message
			if r.Kind != "elevation" || !strings.Contains(m.Subject, "Emergency access") || !strings.Contains(m.Text, reason) ||
				!strings.Contains(m.Text, "bt1@example.org") || !strings.Contains(m.Text, "Read clinical notes: progress and session notes") ||
				!strings.Contains(r.ID, e.ID) || m.HTML == "" || m.FromName != "P1" {
				t.Errorf("outbox row = %+v", r)
			}
			to = append(to, m.To)
		}
		slices.Sort(to)
		if !slices.Equal(to, []string{"main2@example.org", "main@example.org"}) {
			t.Errorf("notices to %v, want both Main Admins", to)
		}
	})
}
