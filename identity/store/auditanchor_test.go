package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
)

// TestAuditChainKeptHead is issue 17 point 7 (security review L4): deleting
// the newest rows and rewriting the head row to match verifies on its own,
// but not against a head kept outside the database before the deletion.
func TestAuditChainKeptHead(t *testing.T) {
	tamper := []struct {
		name   string
		tamper func(ctx context.Context, t *testing.T, s *store.Store)
		reason string
	}{
		{"tail deleted, head row rewritten", func(ctx context.Context, t *testing.T, s *store.Store) {
			ids := eventIDs(t, s, "p-a")
			if _, err := s.ExecRawForTest(ctx, `DELETE FROM audit_events WHERE practice_id = 'p-a' AND id >= $1`, ids[3]); err != nil {
				t.Fatal(err)
			}
			rewriteHead(ctx, t, s, 3)
		}, "deleted from the end"},
		{"tail deleted, rewritten and extended", func(ctx context.Context, t *testing.T, s *store.Store) {
			// The attacker deletes rows 4–5, rewrites the head, and the
			// service appends new rows 4–5 on top: the length matches
			// again, the hash at the kept sequence does not.
			ids := eventIDs(t, s, "p-a")
			if _, err := s.ExecRawForTest(ctx, `DELETE FROM audit_events WHERE practice_id = 'p-a' AND id >= $1`, ids[3]); err != nil {
				t.Fatal(err)
			}
			rewriteHead(ctx, t, s, 3)
			appendN(t, s, "p-a", 2)
		}, "was rewritten"},
	}
	for _, tc := range tamper {
		t.Run(tc.name, func(t *testing.T) {
			storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
				ctx := context.Background()
				appendN(t, s, "p-a", 5)
				appendN(t, s, "p-b", 2)
				heads, err := s.AuditChainHeads(ctx)
				if err != nil || len(heads) != 2 || heads[0].PracticeID != "p-a" || heads[0].Seq != 5 {
					t.Fatalf("heads = %+v, %v", heads, err)
				}
				kept := heads[0]
				if _, err := s.VerifyAuditChainAgainst(ctx, "p-a", kept); err != nil {
					t.Fatalf("untouched chain against its kept head: %v", err)
				}
				tc.tamper(ctx, t, s)
				if _, err := s.VerifyAuditChain(ctx, "p-a"); err != nil {
					t.Fatalf("the tampering should verify without the kept head (that is the gap): %v", err)
				}
				_, err = s.VerifyAuditChainAgainst(ctx, "p-a", kept)
				b := wantBreak(t, err, 0)
				if b.Seq != kept.Seq || !strings.Contains(b.Reason, tc.reason) {
					t.Errorf("break = %+v, want sequence %d and %q", b, kept.Seq, tc.reason)
				}
				// The other practice's chain, untouched, verifies against its own.
				if _, err := s.VerifyAuditChainAgainst(ctx, "p-b", heads[1]); err != nil {
					t.Errorf("untouched chain p-b: %v", err)
				}
			})
		})
	}
}

// rewriteHead sets the head row to the chain's row at seq, as an attacker
// with database access would after deleting the rows above it.
func rewriteHead(ctx context.Context, t *testing.T, s *store.Store, seq int64) {
	t.Helper()
	if _, err := s.ExecRawForTest(ctx, `UPDATE audit_chain_heads SET seq = $1, hash = (SELECT hash FROM audit_events
		WHERE practice_id = 'p-a' AND chain_seq = $1) WHERE chain_key = 'p-a'`, seq); err != nil {
		t.Fatal(err)
	}
}
