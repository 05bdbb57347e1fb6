package store_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
)

func TestLockoutCounters(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		exp := t0.Add(10 * time.Minute)
		for want := int64(1); want <= 3; want++ {
			n, err := s.IncrLockoutCounter(ctx, "a", t0, exp)
			if err != nil || n != want {
				t.Fatalf("Incr = %d, %v; want %d", n, err, want)
			}
		}
		n, gotExp, err := s.PeekLockoutCounter(ctx, "a", t0.Add(time.Minute))
		if err != nil || n != 3 || !gotExp.Equal(exp) {
			t.Errorf("Peek = %d, %v, %v; the window must not slide", n, gotExp, err)
		}
		// Past the expiry the count is gone and starts again with a new window.
		later := exp.Add(time.Second)
		if n, _, _ := s.PeekLockoutCounter(ctx, "a", later); n != 0 {
			t.Errorf("Peek after expiry = %d", n)
		}
		if n, err := s.IncrLockoutCounter(ctx, "a", later, later.Add(time.Minute)); err != nil || n != 1 {
			t.Errorf("Incr after expiry = %d, %v", n, err)
		}
		if _, e, _ := s.PeekLockoutCounter(ctx, "a", later); !e.Equal(later.Add(time.Minute)) {
			t.Errorf("new window expiry = %v", e)
		}
		// No window: never expires.
		if _, err := s.IncrLockoutCounter(ctx, "b", t0, time.Time{}); err != nil {
			t.Fatal(err)
		}
		if n, e, _ := s.PeekLockoutCounter(ctx, "b", t0.Add(1000*time.Hour)); n != 1 || !e.IsZero() {
			t.Errorf("Peek(no window) = %d, %v", n, e)
		}
		if err := s.DeleteLockoutCounter(ctx, "b"); err != nil {
			t.Fatal(err)
		}
		if n, _, _ := s.PeekLockoutCounter(ctx, "b", t0); n != 0 {
			t.Errorf("Peek after delete = %d", n)
		}
		if purged, err := s.PurgeLockoutCounters(ctx, later.Add(time.Hour)); err != nil || purged != 1 {
			t.Errorf("Purge = %d, %v", purged, err)
		}

		// Concurrent increments each get their own number.
		const workers = 40
		got := make(chan int64, workers)
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				n, err := s.IncrLockoutCounter(ctx, "race", t0, time.Time{})
				if err != nil {
					t.Error(err)
				}
				got <- n
			})
		}
		wg.Wait()
		close(got)
		var all []int64
		for n := range got {
			all = append(all, n)
		}
		slices.Sort(all)
		for i, n := range all {
			if n != int64(i+1) {
				t.Fatalf("counts %v are not 1..%d", all, workers)
			}
		}
	})
}

func TestMemberLocks(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		p := seedPractice(t, s, "sunrise")
		m := seedMember(t, s, p, "m1", "clara@example.org", "clinician")
		owner := seedMember(t, s, p, "m2", "olive@example.org", "owner")
		seedMember(t, s, p, "m3", "ivy@example.org", "owner") // invited: not notified
		for _, id := range []string{m.ID, owner.ID} {
			if err := s.SetPassword(ctx, id, "hash", t0, true); err != nil {
				t.Fatal(err)
			}
		}
		lock := store.MemberLock{ID: "l1", PracticeID: p.ID, MemberID: m.ID, LockedAt: t0, Attempts: 3,
			Addresses: []string{"203.0.113.7", "2001:db8::1"}}

		// Invited members cannot be locked.
		if ok, err := s.LockMember(ctx, store.MemberLock{ID: "l0", PracticeID: p.ID, MemberID: "m3", LockedAt: t0}); err != nil || ok {
			t.Errorf("LockMember(invited) = %v, %v", ok, err)
		}
		if err := s.RequireActiveMember(ctx, m.ID); err != nil {
			t.Errorf("RequireActiveMember(active) = %v", err)
		}
		if ok, err := s.LockMember(ctx, lock); err != nil || !ok {
			t.Fatalf("LockMember = %v, %v", ok, err)
		}
		if err := s.RequireActiveMember(ctx, m.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("RequireActiveMember(locked) = %v", err)
		}
		// A second lock of a locked member records nothing.
		again := lock
		again.ID = "l2"
		if ok, err := s.LockMember(ctx, again); err != nil || ok {
			t.Errorf("LockMember(locked) = %v, %v", ok, err)
		}
		got, err := s.MemberByID(ctx, p.ID, m.ID)
		if err != nil || got.Status != store.StatusLocked {
			t.Fatalf("status = %s, %v", got.Status, err)
		}
		locks, err := s.MemberLocks(ctx, p.ID, m.ID)
		if err != nil || len(locks) != 1 || locks[0].Attempts != 3 || !slices.Equal(locks[0].Addresses, lock.Addresses) ||
			!locks[0].LockedAt.Equal(t0) || !locks[0].UnlockedAt.IsZero() {
			t.Fatalf("MemberLocks = %+v, %v", locks, err)
		}
		// Unlock: only from another practice's ID it does nothing.
		if ok, err := s.UnlockMember(ctx, "p-other", m.ID, "operator", t0); err != nil || ok {
			t.Errorf("UnlockMember(other practice) = %v, %v", ok, err)
		}
		at := t0.Add(time.Hour)
		if ok, err := s.UnlockMember(ctx, p.ID, m.ID, owner.ID, at); err != nil || !ok {
			t.Fatalf("UnlockMember = %v, %v", ok, err)
		}
		if ok, err := s.UnlockMember(ctx, p.ID, m.ID, owner.ID, at); err != nil || ok {
			t.Errorf("UnlockMember(active) = %v, %v", ok, err)
		}
		locks, _ = s.MemberLocks(ctx, p.ID, m.ID)
		if len(locks) != 1 || !locks[0].UnlockedAt.Equal(at) || locks[0].UnlockedBy != owner.ID {
			t.Errorf("after unlock = %+v", locks)
		}
		if got, _ := s.MemberByID(ctx, p.ID, m.ID); got.Status != store.StatusActive {
			t.Errorf("status after unlock = %s", got.Status)
		}

		admins, err := s.ActiveMembersWithRoleFor(ctx, p.ID, []string{"owner"})
		if err != nil || len(admins) != 1 || admins[0].ID != owner.ID || !slices.Equal(admins[0].Roles, []string{"owner"}) {
			t.Errorf("ActiveMembersWithRoleFor = %+v, %v", admins, err)
		}
	})
}

func TestRecentFailureAddrs(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		p := seedPractice(t, s, "sunrise")
		ev := func(action, outcome, addr string) {
			t.Helper()
			if err := s.AppendAudit(ctx, store.AuditEvent{PracticeID: p.ID, At: t0, Action: action, Outcome: outcome,
				SubjectID: "m1", ClientAddr: addr}); err != nil {
				t.Fatal(err)
			}
		}
		ev("login", "failure", "198.51.100.1") // before the last success: not counted
		ev("login", "success", "192.0.2.1")
		ev("login", "failure", "203.0.113.7")
		ev("login", "failure", "203.0.113.7")
		ev("member.unlock", "failure", "192.0.2.9") // a refused unlock is no boundary
		ev("login", "failure", "2001:db8::1")
		got, err := s.RecentFailureAddrs(ctx, p.ID, "m1", 10)
		if err != nil || !slices.Equal(got, []string{"2001:db8::1", "203.0.113.7"}) {
			t.Errorf("RecentFailureAddrs = %v, %v", got, err)
		}
		ev("member.unlock", "success", "192.0.2.9")
		if got, _ := s.RecentFailureAddrs(ctx, p.ID, "m1", 10); len(got) != 0 {
			t.Errorf("after an unlock = %v", got)
		}
	})
}

// TestRecentFailures: the durable count a lost Redis count is rebuilt from —
// password failures of the member with that email key since the last
// success or unlock and since the window's start; none for an address
// without a member or in another practice.
func TestRecentFailures(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		p := seedPractice(t, s, "sunrise")
		other := seedPractice(t, s, "moonrise")
		m := seedMember(t, s, p, "m1", "Clara@Example.org")
		ev := func(pr store.Practice, at time.Time, action, outcome string) {
			t.Helper()
			if err := s.AppendAudit(ctx, store.AuditEvent{PracticeID: pr.ID, At: at, Action: action, Outcome: outcome,
				SubjectID: m.ID}); err != nil {
				t.Fatal(err)
			}
		}
		count := func(key string, since time.Time) int64 {
			t.Helper()
			n, err := s.RecentFailures(ctx, p.ID, key, since)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		ev(p, t0, "login", "failure") // before the success: not counted
		ev(p, t0, "login", "success")
		ev(p, t0.Add(time.Minute), "login", "failure")
		ev(p, t0.Add(2*time.Minute), "reauthenticate", "failure")
		ev(p, t0.Add(3*time.Minute), "password.change", "failure")
		ev(p, t0.Add(3*time.Minute), "member.unlock", "failure") // a refused unlock is no boundary
		ev(p, t0.Add(3*time.Minute), "passkey.register", "failure")
		ev(other, t0.Add(3*time.Minute), "login", "failure")
		for _, c := range []struct {
			key   string
			since time.Time
			want  int64
		}{
			{store.EmailKey("Clara@Example.org"), time.Time{}, 3},
			{store.EmailKey("Clara@Example.org"), t0.Add(90 * time.Second), 2},
			{"nobody@example.org", time.Time{}, 0},
		} {
			if got := count(c.key, c.since); got != c.want {
				t.Errorf("RecentFailures(%q, %v) = %d, want %d", c.key, c.since, got, c.want)
			}
		}
		ev(p, t0.Add(4*time.Minute), "member.unlock", "success")
		if got := count(store.EmailKey(m.Email), time.Time{}); got != 0 {
			t.Errorf("after an unlock = %d, want 0", got)
		}
	})
}

// TestNoteRedisRun: the first Redis run a database sees is first; later
// notes, of the same run or a new one, are not, and the last run is kept.
func TestNoteRedisRun(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		tests := []struct {
			run  string
			want bool
		}{
			{"run-a", true},
			{"run-a", false},
			{"run-b", false},
			{"run-a", false},
		}
		for i, tt := range tests {
			if first, err := s.NoteRedisRun(ctx, tt.run, t0.Add(time.Duration(i)*time.Second)); err != nil || first != tt.want {
				t.Errorf("note %d (%s) = %v, %v; want first %v", i, tt.run, first, err, tt.want)
			}
		}
	})
}

// TestRedisRunMigrationBackfill: migration 00018 marks a database that
// already held logins as having seen a Redis run (it was counting before the
// table existed), and leaves one without logins as brand-new.
func TestRedisRunMigrationBackfill(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		rerun := func(t *testing.T) {
			t.Helper()
			// Back to before 00018 (and any later migration), then up again.
			if err := s.MigrateDownToForTest(ctx, 17); err != nil {
				t.Fatal(err)
			}
			if err := s.Migrate(ctx, nil); err != nil {
				t.Fatal(err)
			}
		}
		rerun(t)
		if first, err := s.NoteRedisRun(ctx, "run-a", t0); err != nil || !first {
			t.Errorf("database without logins: first = %v, %v; want true", first, err)
		}
		if err := s.AppendAudit(ctx, store.AuditEvent{Action: "login", Outcome: "failure", At: t0}); err != nil {
			t.Fatal(err)
		}
		rerun(t)
		if first, err := s.NoteRedisRun(ctx, "run-a", t0); err != nil || first {
			t.Errorf("database with logins: first = %v, %v; want false", first, err)
		}
	})
}
