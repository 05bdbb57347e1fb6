package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
	"github.com/frontdeskhq/frontdesk/invites"
)

func TestInvitations(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		p := seedPractice(t, s, "sunrise")
		m := seedMember(t, s, p, "m1", "new@example.org", "clinician")
		inv := store.Invitation{ID: "i1", PracticeID: p.ID, MemberID: m.ID, Email: m.Email, Roles: []string{"clinician", "biller"},
			InvitedBy: "operator", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
		if err := s.CreateInvitation(ctx, inv, hashOf("tok1")); err != nil {
			t.Fatal(err)
		}
		got, err := s.InvitationByTokenHash(ctx, hashOf("tok1"))
		if err != nil || got.ID != "i1" || len(got.Roles) != 2 || got.Roles[0] != "biller" || got.Sends != 1 {
			t.Fatalf("InvitationByTokenHash = %+v, %v", got, err)
		}
		if st := got.State(t0); st != store.InvitationPending {
			t.Errorf("state = %s", st)
		}
		if st := got.State(t0.Add(time.Hour)); st != store.InvitationExpired {
			t.Errorf("state at expiry = %s", st)
		}
		// Resend: new token, old one gone.
		if err := s.RotateInvitation(ctx, "i1", hashOf("tok2"), t0.Add(2*time.Hour), t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.InvitationByTokenHash(ctx, hashOf("tok1")); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("old token after resend: %v", err)
		}
		if err := s.AcceptInvitation(ctx, "i1", hashOf("tok1"), t0.Add(2*time.Minute)); !errors.Is(err, store.ErrLinkUnusable) {
			t.Errorf("accept with old token: %v", err)
		}
		if err := s.AcceptInvitation(ctx, "i1", hashOf("tok2"), t0.Add(3*time.Hour)); !errors.Is(err, store.ErrLinkUnusable) {
			t.Errorf("accept after expiry: %v", err)
		}
		// Concurrent acceptances: exactly one wins.
		var wins atomic.Int32
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				if s.AcceptInvitation(ctx, "i1", hashOf("tok2"), t0.Add(5*time.Minute)) == nil {
					wins.Add(1)
				}
			})
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Fatalf("%d acceptances succeeded, want 1", wins.Load())
		}
		if err := s.RotateInvitation(ctx, "i1", hashOf("tok3"), t0.Add(2*time.Hour), t0); !errors.Is(err, store.ErrLinkUnusable) {
			t.Errorf("resend accepted invitation: %v", err)
		}
		if err := s.RevokeInvitation(ctx, "i1", t0); !errors.Is(err, store.ErrLinkUnusable) {
			t.Errorf("revoke accepted invitation: %v", err)
		}
		got, _ = s.InvitationByID(ctx, p.ID, "i1")
		if got.State(t0) != store.InvitationAccepted {
			t.Errorf("state = %s", got.State(t0))
		}
		if _, err := s.InvitationByID(ctx, "p-other", "i1"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("cross-practice lookup: %v", err)
		}

		m2 := seedMember(t, s, p, "m2", "two@example.org", "clinician")
		inv2 := inv
		inv2.ID, inv2.MemberID, inv2.Email = "i2", m2.ID, m2.Email
		if err := s.CreateInvitation(ctx, inv2, hashOf("tok-i2")); err != nil {
			t.Fatal(err)
		}
		if n, err := s.RevokeMemberInvitations(ctx, m2.ID, t0); err != nil || n != 1 {
			t.Fatalf("RevokeMemberInvitations = %d, %v", n, err)
		}
		list, err := s.ListInvitations(ctx, p.ID)
		if err != nil || len(list) != 2 {
			t.Fatalf("ListInvitations = %v, %v", list, err)
		}
		states := map[string]store.InvitationState{}
		for _, i := range list {
			states[i.ID] = i.State(t0)
		}
		if states["i1"] != store.InvitationAccepted || states["i2"] != store.InvitationRevoked {
			t.Errorf("states = %v", states)
		}
	})
}

func TestTemporaryPasswords(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		p := seedPractice(t, s, "sunrise")
		m := seedMember(t, s, p, "m1", "a@example.org", "clinician")
		tp := store.TemporaryPassword{ID: "t1", PracticeID: p.ID, MemberID: m.ID, PasswordHash: "h1", IssuedBy: "operator",
			CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
		if err := s.CreateTemporaryPassword(ctx, tp); err != nil {
			t.Fatal(err)
		}
		tp.ID, tp.PasswordHash = "t2", "h2"
		if err := s.CreateTemporaryPassword(ctx, tp); err != nil {
			t.Fatal(err)
		}
		got, err := s.ActiveTemporaryPassword(ctx, m.ID, t0)
		if err != nil || got.ID != "t2" {
			t.Fatalf("active = %+v, %v (the new one voids the old)", got, err)
		}
		if err := s.UseTemporaryPassword(ctx, "t1", t0); !errors.Is(err, store.ErrLinkUnusable) {
			t.Errorf("voided one used: %v", err)
		}
		if err := s.UseTemporaryPassword(ctx, "t2", t0.Add(time.Hour)); !errors.Is(err, store.ErrLinkUnusable) {
			t.Errorf("expired one used: %v", err)
		}
		if err := s.UseTemporaryPassword(ctx, "t2", t0); err != nil {
			t.Fatal(err)
		}
		if err := s.UseTemporaryPassword(ctx, "t2", t0); !errors.Is(err, store.ErrLinkUnusable) {
			t.Errorf("used twice: %v", err)
		}
		if _, err := s.ActiveTemporaryPassword(ctx, m.ID, t0); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("active after use: %v", err)
		}
		if last, err := s.LastUsedTemporaryPassword(ctx, m.ID); err != nil || last.PasswordHash != "h2" {
			t.Errorf("last used = %+v, %v", last, err)
		}
	})
}

func TestSessionRestriction(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		p := seedPractice(t, s, "sunrise")
		m := seedMember(t, s, p, "m1", "a@example.org")
		for i, restricted := range []bool{false, true} {
			sess := store.Session{ID: fmt.Sprint("s", i), PracticeID: p.ID, MemberID: m.ID, AMR: []string{"pwd"},
				AuthTime: t0, CreatedAt: t0, LastSeenAt: t0, ExpiresAt: t0.Add(time.Hour), MustChangePassword: restricted}
			if err := s.CreateSession(ctx, sess, hashOf(sess.ID)); err != nil {
				t.Fatal(err)
			}
			got, err := s.SessionByTokenHash(ctx, hashOf(sess.ID))
			if err != nil || got.MustChangePassword != restricted {
				t.Errorf("session %d: MustChangePassword = %v, %v; want %v", i, got.MustChangePassword, err, restricted)
			}
		}
	})
}

func enqueue(t *testing.T, s *store.Store, id, ref string, at time.Time) {
	t.Helper()
	err := s.EnqueueMail(context.Background(), store.OutboxMail{ID: id, PracticeID: "p-sunrise", Kind: "invitation", RefID: ref,
		CreatedAt: at, Message: invites.Message{To: id + "@example.org", Subject: "Hello " + id, Text: "text " + id,
			HTML: "<p>" + id + "</p>", Links: []string{"https://x/" + id}, FromName: "Sunrise"}})
	if err != nil {
		t.Fatal(err)
	}
}

// byID orders claimed rows (RETURNING has no order).
func byID(rows []invites.Outgoing) {
	slices.SortFunc(rows, func(a, b invites.Outgoing) int { return strings.Compare(a.ID, b.ID) })
}

func TestOutbox(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		p := seedPractice(t, s, "sunrise")
		m := seedMember(t, s, p, "m1", "a@example.org")
		if err := s.CreateInvitation(ctx, store.Invitation{ID: "inv", PracticeID: p.ID, MemberID: m.ID, Email: m.Email,
			InvitedBy: "operator", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}, hashOf("x")); err != nil {
			t.Fatal(err)
		}
		enqueue(t, s, "a", "inv", t0)
		enqueue(t, s, "b", "other", t0)
		enqueue(t, s, "c", "later", t0.Add(time.Minute))

		got, err := s.ClaimOutbox(ctx, "w1", t0, time.Minute, 10)
		byID(got)
		if err != nil || len(got) != 2 {
			t.Fatalf("claim = %v, %v; want a and b (c is not due)", got, err)
		}
		if got[0].ID != "a" || got[0].Attempts != 1 || got[0].Message.ID != "outbox-a" || got[0].Message.Subject != "Hello a" ||
			got[0].Message.FromName != "Sunrise" || len(got[0].Message.Links) != 1 {
			t.Errorf("claimed = %+v", got[0])
		}
		// Claimed rows are leased: another worker gets nothing until the lease ends.
		if again, _ := s.ClaimOutbox(ctx, "w2", t0.Add(30*time.Second), time.Minute, 10); len(again) != 0 {
			t.Errorf("leased rows claimed again: %v", again)
		}
		if err := s.MarkOutboxSent(ctx, "a", "w2", t0); !errors.Is(err, store.ErrLinkUnusable) {
			t.Errorf("a worker that does not hold the claim marked it sent: %v", err)
		}
		if err := s.MarkOutboxSent(ctx, "a", "w1", t0); err != nil {
			t.Fatal(err)
		}
		if inv, _ := s.InvitationByID(ctx, p.ID, "inv"); inv.DeliveredAt.IsZero() {
			t.Error("invitation not marked delivered")
		}
		if err := s.MarkOutboxRetry(ctx, "b", "w1", t0.Add(10*time.Second), "connection refused"); err != nil {
			t.Fatal(err)
		}
		if n, _ := s.CountOutboxPending(ctx); n != 2 {
			t.Errorf("pending = %d, want 2", n)
		}
		// After the lease of b was released and its back-off passed, it is due again; c too.
		got, err = s.ClaimOutbox(ctx, "w2", t0.Add(2*time.Minute), time.Minute, 10)
		byID(got)
		if err != nil || len(got) != 2 || got[0].ID != "b" || got[0].Attempts != 2 {
			t.Fatalf("reclaim = %+v, %v", got, err)
		}
		if err := s.MarkOutboxFailed(ctx, "b", "w2", t0.Add(2*time.Minute), "gave up"); err != nil {
			t.Fatal(err)
		}
		// A crashed worker's claim lapses: c is claimable after its lease.
		got, err = s.ClaimOutbox(ctx, "w3", t0.Add(4*time.Minute), time.Minute, 10)
		if err != nil || len(got) != 1 || got[0].ID != "c" || got[0].Attempts != 2 {
			t.Fatalf("claim after lapse = %+v, %v", got, err)
		}
		if n, err := s.CancelOutbox(ctx, "later", "revoked", t0); err != nil || n != 1 {
			t.Fatalf("cancel = %d, %v", n, err)
		}
		if n, _ := s.CountOutboxPending(ctx); n != 0 {
			t.Errorf("pending = %d, want 0", n)
		}
		es, err := s.OutboxEntries(ctx, "other")
		if err != nil || len(es) != 1 || es[0].Status != store.OutboxFailed || es[0].LastError != "gave up" || es[0].Attempts != 2 {
			t.Errorf("entries = %+v, %v", es, err)
		}
	})
}

// TestOutboxClaimsAreExclusive has several workers claim concurrently: every
// row is claimed exactly once.
func TestOutboxClaimsAreExclusive(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		const n = 120
		for i := range n {
			enqueue(t, s, fmt.Sprintf("m%03d", i), "r", t0)
		}
		var mu sync.Mutex
		seen := map[string]int{}
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Go(func() {
				for {
					got, err := s.ClaimOutbox(ctx, fmt.Sprint("w", w), t0, time.Hour, 7)
					if err != nil {
						t.Error(err)
						return
					}
					if len(got) == 0 {
						return
					}
					mu.Lock()
					for _, o := range got {
						seen[o.ID]++
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if len(seen) != n {
			t.Fatalf("%d rows claimed, want %d", len(seen), n)
		}
		for id, c := range seen {
			if c != 1 {
				t.Errorf("%s claimed %d times", id, c)
			}
		}
	})
}
