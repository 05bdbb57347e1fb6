package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
)

func appendN(t *testing.T, s *store.Store, practice string, n int) {
	t.Helper()
	for i := range n {
		if err := s.AppendAudit(context.Background(), store.AuditEvent{PracticeID: practice,
			At: t0.Add(time.Duration(i) * time.Second), Action: "login", Outcome: "success",
			ActorID: fmt.Sprintf("m-%d", i), Details: map[string]string{"i": fmt.Sprint(i)}}); err != nil {
			t.Fatalf("AppendAudit: %v", err)
		}
	}
}

func eventIDs(t *testing.T, s *store.Store, practice string) []int64 {
	t.Helper()
	recs, err := s.QueryAudit(context.Background(), store.AuditFilter{PracticeID: practice, Ascending: true, Limit: 1000})
	if err != nil {
		t.Fatalf("QueryAudit: %v", err)
	}
	ids := make([]int64, len(recs))
	for i, r := range recs {
		ids[i] = r.ID
	}
	return ids
}

func wantBreak(t *testing.T, err error, eventID int64) *store.AuditBreak {
	t.Helper()
	var b *store.AuditBreak
	if !errors.As(err, &b) || !errors.Is(err, store.ErrAuditChainBroken) {
		t.Fatalf("verify = %v, want an *AuditBreak", err)
	}
	if b.EventID != eventID {
		t.Fatalf("break at event %d (%s), want %d", b.EventID, b.Reason, eventID)
	}
	return b
}

func TestAuditChainVerifies(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		appendN(t, s, "p-a", 5)
		appendN(t, s, "p-b", 3)
		appendN(t, s, "", 2)
		for _, p := range []string{"p-a", "p-b", ""} {
			head, err := s.VerifyAuditChain(ctx, p)
			if err != nil {
				t.Fatalf("verify %q: %v", p, err)
			}
			if want := map[string]int64{"p-a": 5, "p-b": 3, "": 2}[p]; head.Seq != want || len(head.Hash) != 64 {
				t.Errorf("head of %q = %+v, want seq %d", p, head, want)
			}
		}
		chains, err := s.AuditChains(ctx)
		if err != nil || len(chains) != 3 {
			t.Errorf("AuditChains = %v, %v", chains, err)
		}
		// A practice without events verifies as an empty chain.
		if head, err := s.VerifyAuditChain(ctx, "p-none"); err != nil || head.Seq != 0 {
			t.Errorf("empty chain = %+v, %v", head, err)
		}
	})
}

func TestAuditChainDetectsTampering(t *testing.T) {
	cases := []struct {
		name   string
		tamper func(ctx context.Context, s *store.Store, ids []int64) error
		at     int // index of the event the break must name; -1 for "after the end"
	}{
		{"edit action", func(ctx context.Context, s *store.Store, ids []int64) error {
			_, err := s.ExecRawForTest(ctx, `UPDATE audit_events SET action = 'logout' WHERE id = $1`, ids[2])
			return err
		}, 2},
		{"edit details", func(ctx context.Context, s *store.Store, ids []int64) error {
			_, err := s.ExecRawForTest(ctx, `UPDATE audit_events SET details = '{"i":"9"}' WHERE id = $1`, ids[1])
			return err
		}, 1},
		{"edit time", func(ctx context.Context, s *store.Store, ids []int64) error {
			_, err := s.ExecRawForTest(ctx, `UPDATE audit_events SET at = at + 1 WHERE id = $1`, ids[0])
			return err
		}, 0},
		{"delete middle row", func(ctx context.Context, s *store.Store, ids []int64) error {
			_, err := s.ExecRawForTest(ctx, `DELETE FROM audit_events WHERE id = $1`, ids[2])
			return err
		}, 3},
		{"delete first row", func(ctx context.Context, s *store.Store, ids []int64) error {
			_, err := s.ExecRawForTest(ctx, `DELETE FROM audit_events WHERE id = $1`, ids[0])
			return err
		}, 1},
		{"delete last row", func(ctx context.Context, s *store.Store, ids []int64) error {
			_, err := s.ExecRawForTest(ctx, `DELETE FROM audit_events WHERE id = $1`, ids[4])
			return err
		}, -1},
		{"delete middle row and renumber", func(ctx context.Context, s *store.Store, ids []int64) error {
			if _, err := s.ExecRawForTest(ctx, `DELETE FROM audit_events WHERE id = $1`, ids[2]); err != nil {
				return err
			}
			_, err := s.ExecRawForTest(ctx, `UPDATE audit_events SET chain_seq = chain_seq - 1 WHERE id > $1`, ids[2])
			return err
		}, 3},
		{"strip chain columns", func(ctx context.Context, s *store.Store, ids []int64) error {
			_, err := s.ExecRawForTest(ctx, `UPDATE audit_events SET chain_seq = NULL, hash = NULL WHERE id = $1`, ids[3])
			return err
		}, 3},
		{"move row to another practice", func(ctx context.Context, s *store.Store, ids []int64) error {
			_, err := s.ExecRawForTest(ctx, `UPDATE audit_events SET practice_id = 'p-other' WHERE id = $1`, ids[1])
			return err
		}, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
				ctx := context.Background()
				appendN(t, s, "p-a", 5)
				ids := eventIDs(t, s, "p-a")
				if _, err := s.VerifyAuditChain(ctx, "p-a"); err != nil {
					t.Fatalf("verify before tampering: %v", err)
				}
				if err := tc.tamper(ctx, s, ids); err != nil {
					t.Fatalf("tamper: %v", err)
				}
				_, err := s.VerifyAuditChain(ctx, "p-a")
				want := int64(0)
				if tc.at >= 0 {
					want = ids[tc.at]
				}
				wantBreak(t, err, want)
			})
		})
	}
}

// A field holding a newline, NUL, or separator characters cannot make one
// event hash like another: the encoding is length-prefixed.
func TestAuditChainControlCharactersCannotForge(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		evil := store.AuditEvent{PracticeID: "p-a", At: t0, Action: "login", Outcome: "success",
			ActorID: "m-1|success|m-2", SubjectID: "a\nb\x00c", UserAgent: "x\r\ny\xff",
			Details: map[string]string{"k\x00": "v|w\n", "z": "\x00"}}
		if err := s.AppendAudit(ctx, evil); err != nil {
			t.Fatalf("AppendAudit: %v", err)
		}
		if _, err := s.VerifyAuditChain(ctx, "p-a"); err != nil {
			t.Fatalf("verify: %v", err)
		}
		recs, err := s.QueryAudit(ctx, store.AuditFilter{PracticeID: "p-a"})
		if err != nil || len(recs) != 1 {
			t.Fatalf("QueryAudit = %v, %v", recs, err)
		}
		r := recs[0]
		if r.SubjectID != "a\nb\uFFFDc" || r.UserAgent != "x\r\ny\uFFFD" || r.ActorID != evil.ActorID {
			t.Errorf("stored fields = %q %q %q", r.ActorID, r.SubjectID, r.UserAgent)
		}
		// Shifting bytes between adjacent fields keeps the concatenation the
		// same but must break the hash.
		shifts := []string{
			`UPDATE audit_events SET actor_id = 'm-1|success', subject_id = '|m-2' || subject_id WHERE id = $1`,
			`UPDATE audit_events SET action = 'loginsuccess', outcome = '' WHERE id = $1`,
			`UPDATE audit_events SET action = 'logi', outcome = 'nsuccess' WHERE id = $1`,
		}
		for _, q := range shifts {
			if _, err := s.ExecRawForTest(ctx, q, r.ID); err != nil {
				t.Fatalf("tamper: %v", err)
			}
			wantBreak(t, verifyErr(s, "p-a"), r.ID)
		}
	})
}

func verifyErr(s *store.Store, p string) error {
	_, err := s.VerifyAuditChain(context.Background(), p)
	return err
}

// Many goroutines appending at once, each inside its own transaction that
// does other work, still produce one unforked chain.
func TestAuditChainConcurrentAppends(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		const workers, each = 8, 10
		var wg sync.WaitGroup
		errs := make(chan error, workers*each)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					practice := []string{"p-a", "p-b"}[(w+i)%2]
					err := s.InTx(ctx, func(tx *store.Store) error {
						if err := tx.AppendAudit(ctx, store.AuditEvent{PracticeID: practice, At: t0,
							Action: "login", Outcome: "success", ActorID: fmt.Sprintf("w%d-%d", w, i)}); err != nil {
							return err
						}
						return tx.AppendAudit(ctx, store.AuditEvent{PracticeID: practice, At: t0,
							Action: "session.create", Outcome: "success", ActorID: fmt.Sprintf("w%d-%d", w, i)})
					})
					if err != nil {
						errs <- err
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("append: %v", err)
		}
		total := int64(0)
		for _, p := range []string{"p-a", "p-b"} {
			head, err := s.VerifyAuditChain(ctx, p)
			if err != nil {
				t.Fatalf("verify %s: %v", p, err)
			}
			total += head.Seq
		}
		if total != 2*workers*each {
			t.Errorf("chained %d events, want %d", total, 2*workers*each)
		}
	})
}

// Rows written before migration 00006 are adopted into the chain, in order, by
// the first append after it.
func TestAuditChainAdoptsLegacyRows(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		for i := range 3 {
			if _, err := s.ExecRawForTest(ctx, `INSERT INTO audit_events (practice_id, at, action, outcome, details)
				VALUES ('p-a', $1, 'legacy', 'success', '{}')`, int64(i)); err != nil {
				t.Fatalf("insert legacy: %v", err)
			}
		}
		if head, err := s.VerifyAuditChain(ctx, "p-a"); err != nil || head.Seq != 0 || head.Unchained != 3 {
			t.Fatalf("verify before adoption = %+v, %v", head, err)
		}
		appendN(t, s, "p-a", 2)
		head, err := s.VerifyAuditChain(ctx, "p-a")
		if err != nil || head.Seq != 5 || head.Unchained != 0 {
			t.Fatalf("verify after adoption = %+v, %v", head, err)
		}
		ids := eventIDs(t, s, "p-a")
		if _, err := s.ExecRawForTest(ctx, `DELETE FROM audit_events WHERE id = $1`, ids[1]); err != nil {
			t.Fatal(err)
		}
		wantBreak(t, verifyErr(s, "p-a"), ids[2])
	})
}

func TestQueryAuditFilters(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		appendN(t, s, "p-a", 5)
		if err := s.AppendAudit(ctx, store.AuditEvent{PracticeID: "p-a", At: t0.Add(time.Hour),
			Action: "member.unlock", Outcome: "failure", ActorID: "m-9", SubjectID: "m-1"}); err != nil {
			t.Fatal(err)
		}
		count := func(f store.AuditFilter) int {
			f.PracticeID = "p-a"
			recs, err := s.QueryAudit(ctx, f)
			if err != nil {
				t.Fatalf("QueryAudit(%+v): %v", f, err)
			}
			return len(recs)
		}
		for name, tc := range map[string]struct {
			f    store.AuditFilter
			want int
		}{
			"all":          {store.AuditFilter{}, 6},
			"action":       {store.AuditFilter{Action: "login"}, 5},
			"prefix":       {store.AuditFilter{Action: "member."}, 1},
			"actor":        {store.AuditFilter{ActorID: "m-2"}, 1},
			"subject":      {store.AuditFilter{SubjectID: "m-1"}, 1},
			"outcome":      {store.AuditFilter{Outcome: "failure"}, 1},
			"since":        {store.AuditFilter{Since: t0.Add(3 * time.Second)}, 3},
			"until":        {store.AuditFilter{Until: t0.Add(2 * time.Second)}, 2},
			"limit":        {store.AuditFilter{Limit: 2}, 2},
			"other":        {store.AuditFilter{ActorID: "nobody"}, 0},
			"prefix-quote": {store.AuditFilter{Action: "x'."}, 0},
		} {
			if got := count(tc.f); got != tc.want {
				t.Errorf("%s: %d events, want %d", name, got, tc.want)
			}
		}
		ids := eventIDs(t, s, "p-a")
		if got := count(store.AuditFilter{BeforeID: ids[2]}); got != 2 {
			t.Errorf("BeforeID: %d", got)
		}
		if got := count(store.AuditFilter{AfterID: ids[2]}); got != 3 {
			t.Errorf("AfterID: %d", got)
		}
	})
}

// BenchmarkAppendAudit measures one chained append (head lock, hash, insert,
// head update) in its own transaction.
func BenchmarkAppendAudit(b *testing.B) {
	for _, engine := range storetest.Engines() {
		b.Run(string(engine), func(b *testing.B) {
			s := storetest.Open(b, engine)
			ctx := context.Background()
			ev := store.AuditEvent{PracticeID: "p-bench", At: t0, Action: "login", Outcome: "success",
				ActorID: "m-1", UserAgent: "Mozilla/5.0", Details: map[string]string{"method": "pwd"}}
			b.ResetTimer()
			for b.Loop() {
				if err := s.AppendAudit(ctx, ev); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
