package password

import (
	"context"
	"runtime"
	"testing"
)

// TestCollectAfterHash: with SetCollectAfterHash(true) every way of
// evaluating a hash (Hash, Verify of a match and of a mismatch, the dummy
// verifications) ends with a completed garbage collection, so the arena it
// allocated is freed before its slot hashes again; the results are those
// of a hasher that does not collect.
func TestCollectAfterHash(t *testing.T) {
	ctx := context.Background()
	plain := NewHasher(testParams, 2)
	collecting := NewHasher(testParams, 2)
	collecting.SetCollectAfterHash(true)
	encoded, err := plain.Hash(ctx, "many hands make light work")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		run  func(h *Hasher) (bool, error)
	}{
		{"Hash", func(h *Hasher) (bool, error) {
			enc, err := h.Hash(ctx, "pw")
			return enc != "", err
		}},
		{"Verify match", func(h *Hasher) (bool, error) {
			ok, _, err := h.Verify(ctx, encoded, "many hands make light work")
			return ok, err
		}},
		{"Verify mismatch", func(h *Hasher) (bool, error) {
			ok, _, err := h.Verify(ctx, encoded, "few hands")
			return ok, err
		}},
		{"VerifyDummy", func(h *Hasher) (bool, error) { return h.VerifyDummy(ctx, "pw"), nil }},
		{"VerifyDummyErr", func(h *Hasher) (bool, error) { return false, h.VerifyDummyErr(ctx, "pw") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, wantErr := tc.run(plain)
			const n = 3
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for range n {
				got, err := tc.run(collecting)
				if got != want || (err == nil) != (wantErr == nil) {
					t.Fatalf("collecting hasher: %v, %v; plain: %v, %v", got, err, want, wantErr)
				}
			}
			runtime.ReadMemStats(&after)
			if gcs := after.NumGC - before.NumGC; gcs < n {
				t.Errorf("%d collections for %d evaluations, want at least one each", gcs, n)
			}
		})
	}
}
