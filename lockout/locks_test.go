package lockout_test

// The durable lockout (locks.go) over the real store on both engines and the
// real role model: locking, the notices, unlocking and who may, and which
// login methods a lock blocks. The login path that calls it is tested in
// identity/account (lockout_login_test.go and its neighbours).

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/frontdeskhq/frontdesk/identity/roles"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
	"github.com/frontdeskhq/frontdesk/invites"
	"github.com/frontdeskhq/frontdesk/lockout"
	"github.com/frontdeskhq/frontdesk/templates"
)

// rolePerms answers lockout's question from the role model's unlock
// permission, as identity/account does.
type rolePerms struct{ r *roles.Service }

func (p rolePerms) MayUnlock(ctx context.Context, practiceID, memberID string) (bool, error) {
	return p.r.Allowed(ctx, practiceID, memberID, roles.PermUnlock)
}

func (p rolePerms) Unlockers(ctx context.Context, practiceID string) ([]string, error) {
	return p.r.Holders(ctx, practiceID, roles.PermUnlock)
}

// sentMail records the notices.
type sentMail struct {
	mu   sync.Mutex
	msgs []invites.Message
}

func (s *sentMail) Send(_ context.Context, m invites.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, m)
	return nil
}

func (s *sentMail) subjects(to string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, m := range s.msgs {
		if m.To == to {
			out = append(out, m.Subject)
		}
	}
	return out
}

type locksEnv struct {
	st      *store.Store
	locks   *lockout.Locks
	guard   *lockout.Limiter
	mail    *sentMail
	reg     *prometheus.Registry
	p       lockout.Practice
	members map[string]lockout.Member // by ID
}

// newLocksEnv is a TherapyNotes practice with an owner, a practice
// administrator (holds the unlock permission), a clinician (does not) and a
// locked clinician.
func newLocksEnv(t *testing.T, st *store.Store) *locksEnv {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	var ids atomic.Int64
	newID := func() string { return fmt.Sprintf("id-%04d", ids.Add(1)) }
	p := store.Practice{ID: "p-notes", Slug: "notes", Name: "Notes Practice", CreatedAt: now}
	if err := st.CreatePractice(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := st.InTx(ctx, func(tx *store.Store) error {
		_, err := roles.Install(ctx, tx, p.ID, "therapynotes", now)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	preset, _ := roles.PresetByKey("therapynotes")
	e := &locksEnv{st: st, mail: &sentMail{}, reg: prometheus.NewRegistry(), p: p.Lockout(),
		members: map[string]lockout.Member{}}
	for _, m := range []store.Member{
		{ID: "owner", Email: "owner@example.org", Status: store.StatusActive, Roles: preset.OwnerRoles},
		{ID: "admin", Email: "admin@example.org", Status: store.StatusActive, Roles: []string{"practice_admin"}},
		{ID: "clin", Email: "clin@example.org", Status: store.StatusActive, Roles: []string{"clinician"}},
		{ID: "victim", Email: "Victim@Example.org", Status: store.StatusActive, Roles: []string{"clinician"}},
	} {
		m.PracticeID, m.CreatedAt = p.ID, now
		if err := st.CreateMember(ctx, m); err != nil {
			t.Fatal(err)
		}
		e.members[m.ID] = m.Lockout()
	}
	rolesSvc, err := roles.New(roles.Deps{Store: st, Now: clock, NewID: newID})
	if err != nil {
		t.Fatal(err)
	}
	mails, err := templates.ParseMails()
	if err != nil {
		t.Fatal(err)
	}
	e.guard = lockout.New(lockout.NewSQLCounter(st, clock), lockout.Settings{})
	e.locks, err = lockout.NewLocks(lockout.LockDeps{Store: st, Guard: e.guard, Permissions: rolePerms{rolesSvc},
		Mail: e.mail, Mails: mails, Logger: slog.New(slog.DiscardHandler), Registry: e.reg, Now: clock, NewID: newID},
		lockout.LockSettings{PublicURL: "https://id.example.org/"})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *locksEnv) status(t *testing.T, id string) store.MemberStatus {
	t.Helper()
	m, err := e.st.MemberByID(context.Background(), e.p.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	return m.Status
}

func (e *locksEnv) audit(t *testing.T, action string) []store.AuditEvent {
	t.Helper()
	all, err := e.st.ListAudit(context.Background(), e.p.ID, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []store.AuditEvent
	for _, ev := range all {
		if ev.Action == action {
			out = append(out, ev)
		}
	}
	return out
}

// TestLockRecordsAuditsAndNotifies: one lock writes the status, the record
// and its audit event together, counts it, and mails the member and every
// active member who may unlock; a second lock of a member no longer active
// does nothing.
func TestLockRecordsAuditsAndNotifies(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, st *store.Store) {
		e := newLocksEnv(t, st)
		ctx := context.Background()
		victim := e.members["victim"]
		e.locks.Lock(ctx, e.p, victim, 3, lockout.Meta{ClientAddr: "203.0.113.9", UserAgent: strings.Repeat("é", 200)})
		if got := e.status(t, "victim"); got != store.StatusLocked {
			t.Fatalf("status after Lock = %s", got)
		}
		recs, err := st.MemberLocks(ctx, e.p.ID, "victim")
		if err != nil || len(recs) != 1 || recs[0].Attempts != 3 || !slices.Equal(recs[0].Addresses, []string{"203.0.113.9"}) {
			t.Fatalf("lock records = %+v, %v", recs, err)
		}
		ev := e.audit(t, "member.lock")
		if len(ev) != 1 || ev[0].SubjectID != "victim" || ev[0].Details["lock"] != recs[0].ID ||
			ev[0].ClientAddr != "203.0.113.9" || len(ev[0].UserAgent) > 256 {
			t.Errorf("member.lock audit = %+v", ev)
		}
		if got := counterValue(t, e.reg, "frontdesk_lockouts_total"); got != 1 {
			t.Errorf("frontdesk_lockouts_total = %v", got)
		}
		tests := []struct {
			to   string
			want []string
		}{
			{"Victim@Example.org", []string{"Your Notes Practice account was locked"}},
			{"admin@example.org", []string{"Account locked at Notes Practice: Victim@Example.org"}},
			{"clin@example.org", nil},
		}
		for _, tt := range tests {
			if got := e.mail.subjects(tt.to); !slices.Equal(got, tt.want) {
				t.Errorf("mail to %s: %q, want %q", tt.to, got, tt.want)
			}
		}
		unlockers, err := e.locks.Unlockers(ctx, e.p.ID)
		if err != nil || len(unlockers) == 0 {
			t.Fatalf("Unlockers = %+v, %v", unlockers, err)
		}
		for _, u := range unlockers {
			if got := e.mail.subjects(u.Email); len(got) != 1 {
				t.Errorf("unlocker %s got %q, want the lock notice", u.ID, got)
			}
		}

		// Not active any more: nothing is recorded or sent again.
		e.locks.Lock(ctx, e.p, victim, 4, lockout.Meta{})
		e.locks.LockIfActive(ctx, e.p, "VICTIM@example.org", 4, lockout.Meta{})
		if recs, _ := st.MemberLocks(ctx, e.p.ID, "victim"); len(recs) != 1 {
			t.Errorf("%d lock records after locking a locked member", len(recs))
		}
		if got := e.mail.subjects("Victim@Example.org"); len(got) != 1 {
			t.Errorf("mails to the member after a second lock: %q", got)
		}
		// LockIfActive finds an active member by email in any spelling.
		e.locks.LockIfActive(ctx, e.p, "CLIN@example.org", 3, lockout.Meta{})
		if got := e.status(t, "clin"); got != store.StatusLocked {
			t.Errorf("LockIfActive: status %s", got)
		}
		e.locks.LockIfActive(ctx, e.p, "nobody@example.org", 3, lockout.Meta{})
	})
}

func counterValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

// TestUnlockWhoMay: only the operator and active members holding the unlock
// permission may unlock; a refusal is audited and changes nothing; an unlock
// clears the count, lifts the lock, closes its record, audits the actor and
// tells the member.
func TestUnlockWhoMay(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, st *store.Store) {
		e := newLocksEnv(t, st)
		ctx := context.Background()
		victim := e.members["victim"]
		att := lockout.Attempt{PracticeID: e.p.ID, AccountKey: victim.AccountKey, Policy: lockout.DefaultPolicy()}
		for range 3 {
			tk, err := e.guard.Begin(ctx, att)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.guard.Failed(ctx, att, tk); err != nil {
				t.Fatal(err)
			}
		}
		e.locks.Lock(ctx, e.p, victim, 3, lockout.Meta{})
		// The admin is locked too, so a locked unlocker is refused.
		e.locks.Lock(ctx, e.p, e.members["admin"], 3, lockout.Meta{})

		refused := []struct {
			name  string
			actor lockout.Actor
			email string
			want  error
		}{
			{"clinician", lockout.Actor{MemberID: "clin"}, "victim@example.org", lockout.ErrForbidden},
			{"unknown actor", lockout.Actor{MemberID: "nobody"}, "victim@example.org", lockout.ErrForbidden},
			{"no actor", lockout.Actor{}, "victim@example.org", lockout.ErrForbidden},
			{"locked unlocker", lockout.Actor{MemberID: "admin"}, "victim@example.org", lockout.ErrForbidden},
			{"unknown member", lockout.Actor{Operator: true}, "nobody@example.org", lockout.ErrMemberNotFound},
		}
		for _, tt := range refused {
			if _, err := e.locks.Unlock(ctx, e.p, tt.email, tt.actor, lockout.Meta{}); !errors.Is(err, tt.want) {
				t.Errorf("%s: Unlock = %v, want %v", tt.name, err, tt.want)
			}
		}
		if _, err := e.locks.UnlockMember(ctx, e.p, "", lockout.Actor{Operator: true}, lockout.Meta{}); !errors.Is(err, lockout.ErrMemberNotFound) {
			t.Errorf("UnlockMember without an ID = %v", err)
		}
		if got := e.status(t, "victim"); got != store.StatusLocked {
			t.Fatalf("a refused unlock unlocked: %s", got)
		}
		if ev := e.audit(t, "member.unlock"); len(ev) != 4 || ev[0].Outcome != "failure" || ev[0].Details["reason"] != "forbidden" {
			t.Errorf("refused unlocks audit = %+v", ev)
		}

		res, err := e.locks.UnlockMember(ctx, e.p, "admin", lockout.Actor{Operator: true}, lockout.Meta{RequestID: "cli"})
		if err != nil || !res.WasLocked || res.MemberID != "admin" {
			t.Fatalf("operator UnlockMember = %+v, %v", res, err)
		}
		res, err = e.locks.Unlock(ctx, e.p, "VICTIM@example.org", lockout.Actor{MemberID: "admin"}, lockout.Meta{ClientAddr: "192.0.2.1"})
		if err != nil || !res.WasLocked || res.MemberID != "victim" {
			t.Fatalf("administrator Unlock = %+v, %v", res, err)
		}
		if got := e.status(t, "victim"); got != store.StatusActive {
			t.Errorf("status after unlock = %s", got)
		}
		if tk, err := e.guard.Begin(ctx, att); err != nil || tk.Count != 1 {
			t.Errorf("after unlock the count starts again: %+v, %v", tk, err)
		}
		recs, _ := st.MemberLocks(ctx, e.p.ID, "victim")
		if len(recs) != 1 || recs[0].UnlockedAt.IsZero() || recs[0].UnlockedBy != "admin" {
			t.Errorf("lock record after unlock = %+v", recs)
		}
		ev := e.audit(t, "member.unlock")
		if last := ev[0]; last.Outcome != "success" || last.ActorID != "admin" || last.Details["was_locked"] != "true" {
			t.Errorf("unlock audit = %+v", last)
		}
		if ev[1].ActorID != lockout.OperatorActorID {
			t.Errorf("operator unlock audited as %q", ev[1].ActorID)
		}
		if got := e.mail.subjects("Victim@Example.org"); !slices.Contains(got, "Your Notes Practice account was unlocked") {
			t.Errorf("mails to the member: %q", got)
		}
		if got := counterValue(t, e.reg, "frontdesk_unlocks_total"); got != 2 {
			t.Errorf("frontdesk_unlocks_total = %v", got)
		}
		// Unlocking an unlocked member clears the count and says so.
		if res, err := e.locks.Unlock(ctx, e.p, "victim@example.org", lockout.Actor{Operator: true}, lockout.Meta{}); err != nil || res.WasLocked {
			t.Errorf("second unlock = %+v, %v", res, err)
		}
		if ev := e.audit(t, "member.unlock"); ev[0].Details["was_locked"] != "false" {
			t.Errorf("second unlock audit = %+v", ev[0])
		}
	})
}

// TestPolicyAndLockBlocks: a practice's own settings win over the default;
// a lock always blocks password login and other methods only under
// blocks: all; a member who is not locked is never blocked.
func TestPolicyAndLockBlocks(t *testing.T) {
	st := storetest.Open(t, store.SQLite)
	e := newLocksEnv(t, st)
	ctx := context.Background()
	all := e.p
	all.Settings = map[string]any{"lockout": map[string]any{"threshold": 5.0, "blocks": "all"}}
	if pol := e.locks.Policy(ctx, all); pol.Threshold != 5 || pol.Blocks != lockout.BlocksAll {
		t.Errorf("Policy = %+v", pol)
	}
	bad := e.p
	bad.Settings = map[string]any{"lockout": map[string]any{"threshold": 101.0}}
	if pol := e.locks.Policy(ctx, bad); pol != lockout.DefaultPolicy() {
		t.Errorf("Policy with an invalid threshold = %+v, want the default", pol)
	}
	locked, active := e.members["victim"], e.members["victim"]
	locked.Active, locked.Locked = false, true
	tests := []struct {
		name   string
		p      lockout.Practice
		m      lockout.Member
		method string
		want   bool
	}{
		{"default, password", e.p, locked, "pwd", true},
		{"default, passkey", e.p, locked, "hwk", false},
		{"all, passkey", all, locked, "hwk", true},
		{"all, not locked", all, active, "pwd", false},
	}
	for _, tt := range tests {
		if got := e.locks.LockBlocks(ctx, tt.p, tt.m, tt.method); got != tt.want {
			t.Errorf("%s: LockBlocks = %v, want %v", tt.name, got, tt.want)
		}
	}
}
