package password

import (
	"context"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
)

// TestArenasBoundedBySlots: however many hashes and verifications run at
// once, and however often, the hasher never makes more argon2id arenas than
// it has slots, and it makes none while a free one is kept; ReleaseArenas
// drops the kept ones, after which hashes make new ones (still within the
// bound). Table: several slot counts.
func TestArenasBoundedBySlots(t *testing.T) {
	for _, slots := range []int{1, 2, 3, 8} {
		t.Run("slots="+strconv.Itoa(slots), func(t *testing.T) {
			h := NewHasher(testParams, slots)
			var made atomic.Int64
			h.arenaMade = func() { made.Add(1) }
			ctx := context.Background()
			encoded, err := h.Hash(ctx, "many hands make light work")
			if err != nil {
				t.Fatal(err)
			}
			burst := func() {
				var wg sync.WaitGroup
				for i := range 4 * slots {
					wg.Go(func() {
						if i%2 == 0 {
							if ok, _, err := h.Verify(ctx, encoded, "many hands make light work"); err != nil || !ok {
								t.Errorf("Verify = %v, %v", ok, err)
							}
						} else if _, err := h.Hash(ctx, "other words"); err != nil {
							t.Error(err)
						}
						runtime.Gosched()
					})
				}
				wg.Wait()
			}
			for range 3 {
				burst()
			}
			if n := made.Load(); n < 1 || n > int64(slots) {
				t.Errorf("%d arenas made for %d slots", n, slots)
			}
			if kept := len(h.arenas); int64(kept) != made.Load() {
				t.Errorf("%d arenas kept after the bursts, %d made", kept, made.Load())
			}
			h.ReleaseArenas()
			if kept := len(h.arenas); kept != 0 {
				t.Errorf("%d arenas kept after ReleaseArenas", kept)
			}
			before := made.Load()
			burst()
			if n := made.Load() - before; n < 1 || n > int64(slots) {
				t.Errorf("after ReleaseArenas: %d arenas made for %d slots", n, slots)
			}
		})
	}
}

// TestVerifyReusesArena: a verification with a kept arena of the hasher's
// cost allocates a small fraction of the arena (the upstream library
// allocated all of it on every call).
func TestVerifyReusesArena(t *testing.T) {
	p := Params{MemoryKiB: 4096, Iterations: 1, Parallelism: 1}
	h := NewHasher(p, 1)
	ctx := context.Background()
	encoded, err := h.Hash(ctx, "pw")
	if err != nil {
		t.Fatal(err)
	}
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	if ok, _, err := h.Verify(ctx, encoded, "pw"); err != nil || !ok {
		t.Fatalf("Verify = %v, %v", ok, err)
	}
	runtime.ReadMemStats(&m1)
	if grew := m1.TotalAlloc - m0.TotalAlloc; grew > 64<<10 {
		t.Errorf("a verification with a kept 4 MiB arena allocated %d bytes", grew)
	}
}
