package store_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
)

// The contract suite: every test here runs against SQLite and PostgreSQL.

var t0 = time.Date(2026, 11, 24, 9, 0, 0, 123456000, time.UTC)

func seedPractice(t *testing.T, s *store.Store, slug string) store.Practice {
	t.Helper()
	p := store.Practice{ID: "p-" + slug, Slug: slug, Name: "Practice " + slug,
		Settings: map[string]any{"therapists_see_own_clients": true}, CreatedAt: t0}
	if err := s.CreatePractice(context.Background(), p); err != nil {
		t.Fatalf("CreatePractice: %v", err)
	}
	return p
}

func seedMember(t *testing.T, s *store.Store, p store.Practice, id, email string, roles ...string) store.Member {
	t.Helper()
	m := store.Member{ID: id, PracticeID: p.ID, Email: email, DisplayName: "Dana", LegalName: "Dana Q. Smith",
		NPI: "1234567893", Taxonomy: "101YM0800X", Status: store.StatusInvited, Roles: roles, CreatedAt: t0}
	if err := s.CreateMember(context.Background(), m); err != nil {
		t.Fatalf("CreateMember: %v", err)
	}
	return m
}

func TestPractices(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		if n, err := s.CountPractices(ctx); err != nil || n != 0 {
			t.Fatalf("CountPractices on empty = %d, %v", n, err)
		}
		p := seedPractice(t, s, "sunrise")
		got, err := s.PracticeBySlug(ctx, "sunrise")
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != p.ID || got.Name != p.Name || !got.CreatedAt.Equal(t0) || got.Settings["therapists_see_own_clients"] != true {
			t.Errorf("PracticeBySlug = %+v, want %+v", got, p)
		}
		if _, err := s.PracticeByID(ctx, p.ID); err != nil {
			t.Errorf("PracticeByID: %v", err)
		}
		dup := p
		dup.ID = "other"
		if err := s.CreatePractice(ctx, dup); !errors.Is(err, store.ErrConflict) {
			t.Errorf("duplicate slug: err = %v, want ErrConflict", err)
		}
		if _, err := s.PracticeBySlug(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("missing practice: err = %v, want ErrNotFound", err)
		}
		if n, _ := s.CountPractices(ctx); n != 1 {
			t.Errorf("CountPractices = %d, want 1", n)
		}
		seedPractice(t, s, "harbor")
		list, err := s.ListPractices(ctx)
		if err != nil || len(list) != 2 || list[0].Slug != "harbor" || list[1].Slug != "sunrise" || list[1].Name != p.Name {
			t.Errorf("ListPractices = %+v, %v; want harbor then sunrise", list, err)
		}
	})
}

func TestMembers(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		p := seedPractice(t, s, "sunrise")
		other := seedPractice(t, s, "harbor")
		m := seedMember(t, s, p, "m1", "Dana.Smith@Example.org", "clinician", "owner", "clinician")

		tests := []struct {
			name  string
			email string
		}{
			{"exact", "Dana.Smith@Example.org"},
			{"lower", "dana.smith@example.org"},
			{"upper", "DANA.SMITH@EXAMPLE.ORG"},
		}
		for _, tt := range tests {
			got, err := s.MemberByEmail(ctx, p.ID, tt.email)
			if err != nil {
				t.Fatalf("%s: MemberByEmail: %v", tt.name, err)
			}
			if got.ID != m.ID || got.Email != "Dana.Smith@Example.org" {
				t.Errorf("%s: got %+v", tt.name, got)
			}
			if !slices.Equal(got.Roles, []string{"clinician", "owner"}) {
				t.Errorf("%s: roles = %v", tt.name, got.Roles)
			}
			if got.NPI != "1234567893" || got.Taxonomy != "101YM0800X" || got.LegalName != "Dana Q. Smith" {
				t.Errorf("%s: profile = %+v", tt.name, got)
			}
		}

		// Unique per practice regardless of case; the same address may join another practice.
		dup := store.Member{ID: "m2", PracticeID: p.ID, Email: "DANA.smith@example.ORG", Status: store.StatusInvited, CreatedAt: t0}
		if err := s.CreateMember(ctx, dup); !errors.Is(err, store.ErrConflict) {
			t.Errorf("case-variant duplicate: err = %v, want ErrConflict", err)
		}
		seedMember(t, s, other, "m3", "dana.smith@example.org")

		// Practices are isolated: a member ID from another practice is not found.
		if _, err := s.MemberByID(ctx, other.ID, m.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("cross-practice MemberByID: err = %v, want ErrNotFound", err)
		}

		// First password activates; rehash is compare-and-swap.
		if err := s.SetPassword(ctx, m.ID, "hash-1", t0.Add(time.Minute), true); err != nil {
			t.Fatal(err)
		}
		got, _ := s.MemberByID(ctx, p.ID, m.ID)
		if got.Status != store.StatusActive || got.PasswordHash != "hash-1" || !got.PasswordChangedAt.Equal(t0.Add(time.Minute)) {
			t.Errorf("after SetPassword: %+v", got)
		}
		if err := s.RehashPassword(ctx, m.ID, "stale", "hash-x", t0); err != nil {
			t.Fatal(err)
		}
		if err := s.RehashPassword(ctx, m.ID, "hash-1", "hash-2", t0); err != nil {
			t.Fatal(err)
		}
		got, _ = s.MemberByID(ctx, p.ID, m.ID)
		if got.PasswordHash != "hash-2" {
			t.Errorf("rehash: hash = %q, want hash-2", got.PasswordHash)
		}

		if err := s.SetMemberRoles(ctx, m.ID, []string{"biller"}); err != nil {
			t.Fatal(err)
		}
		got, _ = s.MemberByID(ctx, p.ID, m.ID)
		if !slices.Equal(got.Roles, []string{"biller"}) {
			t.Errorf("roles after SetMemberRoles = %v", got.Roles)
		}

		// Deactivation keeps the record.
		if err := s.SetMemberStatus(ctx, m.ID, store.StatusDeactivated, t0); err != nil {
			t.Fatal(err)
		}
		got, err := s.MemberByID(ctx, p.ID, m.ID)
		if err != nil || got.Status != store.StatusDeactivated || got.PasswordHash != "hash-2" {
			t.Errorf("after deactivation: %+v, %v", got, err)
		}
		if err := s.SetMemberStatus(ctx, m.ID, "bogus", t0); err == nil {
			t.Error("SetMemberStatus accepted an invalid status")
		}
		if err := s.SetMemberStatus(ctx, "missing", store.StatusActive, t0); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("SetMemberStatus(missing) = %v, want ErrNotFound", err)
		}
	})
}

func hashOf(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

func TestLinksAreSingleUse(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		p := seedPractice(t, s, "sunrise")
		m := seedMember(t, s, p, "m1", "a@example.org")
		l := store.Link{ID: "l1", Purpose: store.PurposeSetup, PracticeID: p.ID, MemberID: m.ID, Email: m.Email,
			CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
		if err := s.CreateLink(ctx, l, hashOf("tok1")); err != nil {
			t.Fatal(err)
		}
		got, err := s.LinkByTokenHash(ctx, hashOf("tok1"))
		if err != nil || got.ID != "l1" || got.Purpose != store.PurposeSetup || !got.ExpiresAt.Equal(l.ExpiresAt) || !got.ConsumedAt.IsZero() {
			t.Fatalf("LinkByTokenHash = %+v, %v", got, err)
		}
		if _, err := s.LinkByTokenHash(ctx, hashOf("other")); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown token: %v", err)
		}

		// Twenty concurrent redemptions: exactly one wins.
		var wins, losses atomic.Int32
		var wg sync.WaitGroup
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := s.ConsumeLink(ctx, "l1", t0.Add(time.Minute))
				switch {
				case err == nil:
					wins.Add(1)
				case errors.Is(err, store.ErrLinkUnusable):
					losses.Add(1)
				default:
					t.Errorf("ConsumeLink: %v", err)
				}
			}()
		}
		wg.Wait()
		if wins.Load() != 1 || losses.Load() != 19 {
			t.Errorf("concurrent consume: %d wins, %d losses; want 1 and 19", wins.Load(), losses.Load())
		}

		// Expired links cannot be consumed; voiding consumes the open ones.
		exp := l
		exp.ID, exp.ExpiresAt = "l2", t0.Add(time.Minute)
		if err := s.CreateLink(ctx, exp, hashOf("tok2")); err != nil {
			t.Fatal(err)
		}
		if err := s.ConsumeLink(ctx, "l2", t0.Add(time.Minute)); !errors.Is(err, store.ErrLinkUnusable) {
			t.Errorf("expired link at its expiry: %v, want ErrLinkUnusable", err)
		}
		open := l
		open.ID = "l3"
		if err := s.CreateLink(ctx, open, hashOf("tok3")); err != nil {
			t.Fatal(err)
		}
		if err := s.VoidLinks(ctx, m.ID, store.PurposeSetup, t0); err != nil {
			t.Fatal(err)
		}
		if err := s.ConsumeLink(ctx, "l3", t0.Add(time.Second)); !errors.Is(err, store.ErrLinkUnusable) {
			t.Errorf("voided link: %v, want ErrLinkUnusable", err)
		}
	})
}

func TestSessions(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		p := seedPractice(t, s, "sunrise")
		m := seedMember(t, s, p, "m1", "a@example.org")
		mk := func(id string) store.Session {
			sess := store.Session{ID: id, PracticeID: p.ID, MemberID: m.ID, AMR: []string{"pwd"},
				AuthTime: t0, CreatedAt: t0, LastSeenAt: t0, ExpiresAt: t0.Add(12 * time.Hour)}
			if err := s.CreateSession(ctx, sess, hashOf(id)); err != nil {
				t.Fatal(err)
			}
			return sess
		}
		a, b, c := mk("s1"), mk("s2"), mk("s3")
		got, err := s.SessionByTokenHash(ctx, hashOf("s1"))
		if err != nil || got.ID != a.ID || !slices.Equal(got.AMR, []string{"pwd"}) || !got.ExpiresAt.Equal(a.ExpiresAt) || !got.EndedAt.IsZero() {
			t.Fatalf("SessionByTokenHash = %+v, %v", got, err)
		}
		if err := s.TouchSession(ctx, a.ID, t0.Add(5*time.Minute)); err != nil {
			t.Fatal(err)
		}
		got, _ = s.SessionByTokenHash(ctx, hashOf("s1"))
		if !got.LastSeenAt.Equal(t0.Add(5 * time.Minute)) {
			t.Errorf("LastSeenAt = %v", got.LastSeenAt)
		}
		if err := s.EndSession(ctx, b.ID, t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		got, _ = s.SessionByTokenHash(ctx, hashOf("s2"))
		if !got.EndedAt.Equal(t0.Add(time.Minute)) {
			t.Errorf("EndedAt = %v", got.EndedAt)
		}
		n, err := s.EndMemberSessions(ctx, m.ID, a.ID, t0.Add(2*time.Minute))
		if err != nil || n != 1 {
			t.Errorf("EndMemberSessions = %d, %v; want 1 (only s3 was still open besides s1)", n, err)
		}
		got, _ = s.SessionByTokenHash(ctx, hashOf(c.ID))
		if got.EndedAt.IsZero() {
			t.Error("s3 still open")
		}
		got, _ = s.SessionByTokenHash(ctx, hashOf(a.ID))
		if !got.EndedAt.IsZero() {
			t.Error("kept session s1 was ended")
		}
	})
}

func TestAudit(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		p := seedPractice(t, s, "sunrise")
		for i := range 3 {
			e := store.AuditEvent{PracticeID: p.ID, At: t0.Add(time.Duration(i) * time.Second), Action: "login",
				Outcome: "failure", SubjectID: "m1", ClientAddr: "192.0.2.7", UserAgent: "test", RequestID: fmt.Sprint("r", i),
				Details: map[string]string{"reason": "mismatch"}}
			if err := s.AppendAudit(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.AppendAudit(ctx, store.AuditEvent{At: t0, Action: "practice.create", Outcome: "success"}); err != nil {
			t.Fatal(err)
		}
		got, err := s.ListAudit(ctx, p.ID, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].RequestID != "r2" || got[1].RequestID != "r1" || got[0].Details["reason"] != "mismatch" ||
			got[0].ClientAddr != "192.0.2.7" || !got[0].At.Equal(t0.Add(2*time.Second)) {
			t.Errorf("ListAudit = %+v", got)
		}
	})
}

func TestTxRollsBack(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		boom := errors.New("boom")
		err := s.InTx(ctx, func(tx *store.Store) error {
			seedPractice(t, tx, "ghost")
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("InTx = %v, want boom", err)
		}
		if _, err := s.PracticeBySlug(ctx, "ghost"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("rolled-back practice visible: %v", err)
		}
	})
}

// Several replicas starting at once must apply each migration exactly once.
func TestConcurrentMigrate(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			_, dsn := storetest.DSN(t, engine)
			ctx := context.Background()
			var wg sync.WaitGroup
			errs := make(chan error, 4)
			for range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					s, err := store.Open(ctx, engine, dsn, store.Options{MaxOpenConns: 2})
					if err != nil {
						errs <- err
						return
					}
					defer s.Close()
					errs <- s.Migrate(ctx, nil)
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Errorf("Migrate: %v", err)
				}
			}
			s, err := store.Open(ctx, engine, dsn, store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if err := s.Migrate(ctx, nil); err != nil {
				t.Errorf("second Migrate: %v", err)
			}
			v, err := s.SchemaVersion(ctx)
			if err != nil || v < 1 {
				t.Errorf("SchemaVersion = %d, %v", v, err)
			}
		})
	}
}

// Closing the idle connections (serve does it when traffic stops) loses
// nothing: the next reads and writes open new ones, prepared statements
// included.
func TestCloseIdleConns(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		p := seedPractice(t, s, "sunrise")
		seedMember(t, s, p, "m1", "dana@example.com", "therapist")
		for i := range 3 {
			s.CloseIdleConns()
			if m, err := s.MemberByID(ctx, p.ID, "m1"); err != nil || !slices.Equal(m.Roles, []string{"therapist"}) {
				t.Fatalf("read after closing idle connections (%d): %+v %v", i, m, err)
			}
			seedMember(t, s, p, fmt.Sprintf("n%d", i), fmt.Sprintf("n%d@example.com", i))
		}
	})
}
