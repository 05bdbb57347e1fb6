package argon2id

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"runtime"
	"testing"
	"unsafe"

	"golang.org/x/crypto/argon2"
)

// dirty fills the arena's memory with random bytes, standing for an earlier
// hash's blocks.
func dirty(t testing.TB, a *Arena) {
	t.Helper()
	if len(a.b) == 0 {
		return
	}
	raw := unsafe.Slice((*byte)(unsafe.Pointer(&a.b[0])), len(a.b)*blockLength*8)
	if _, err := rand.Read(raw); err != nil {
		t.Fatal(err)
	}
}

// TestIDKeyEqualsUpstream: for a table of cost parameters, lane counts,
// key lengths and inputs, IDKey with a fresh arena, with an arena reused
// from another hash (its blocks overwritten with random bytes first), and
// with a nil arena gives exactly golang.org/x/crypto/argon2.IDKey's output.
func TestIDKeyEqualsUpstream(t *testing.T) {
	type params struct {
		time, memory uint32
		threads      uint8
		keyLen       uint32
	}
	cases := []params{
		{1, 8, 1, 32}, {1, 16, 2, 32}, {2, 64, 1, 32}, {2, 64, 4, 16}, {3, 256, 2, 64},
		{1, 1024, 1, 32}, {2, 1031, 3, 33}, // memory not a multiple of 4 × lanes
		{4, 512, 8, 128}, {2, 19456, 1, 32}, // frontdesk's default row
		{1, 7, 1, 32}, // below the minimum: rounded up as upstream does
	}
	inputs := []struct{ password, salt []byte }{
		{[]byte("seven lanterns over a quiet harbour"), []byte("0123456789abcdef")},
		{[]byte(""), []byte("saltsalt")},
		{bytes.Repeat([]byte{0xff}, 200), bytes.Repeat([]byte{0}, 64)},
	}
	reused := new(Arena)
	for _, c := range cases {
		for i, in := range inputs {
			t.Run(fmt.Sprintf("t=%d,m=%d,p=%d,len=%d/input%d", c.time, c.memory, c.threads, c.keyLen, i), func(t *testing.T) {
				want := argon2.IDKey(in.password, in.salt, c.time, c.memory, c.threads, c.keyLen)
				if got := IDKey(new(Arena), in.password, in.salt, c.time, c.memory, c.threads, c.keyLen); !bytes.Equal(got, want) {
					t.Errorf("fresh arena: %x, want %x", got, want)
				}
				if got := IDKey(nil, in.password, in.salt, c.time, c.memory, c.threads, c.keyLen); !bytes.Equal(got, want) {
					t.Errorf("nil arena: %x, want %x", got, want)
				}
				for range 2 { // the second round reuses an arena of exactly this size
					dirty(t, reused)
					if got := IDKey(reused, in.password, in.salt, c.time, c.memory, c.threads, c.keyLen); !bytes.Equal(got, want) {
						t.Errorf("reused arena: %x, want %x", got, want)
					}
				}
			})
		}
	}
}

// TestArenaSizeAndRelease: an arena holds exactly the rounded memory cost
// after a hash, keeps it between hashes of that cost, and drops it on
// Release.
func TestArenaSizeAndRelease(t *testing.T) {
	a := new(Arena)
	if a.Size() != 0 {
		t.Fatalf("zero arena holds %d bytes", a.Size())
	}
	IDKey(a, []byte("pw"), []byte("saltsalt"), 1, 1024, 1, 32)
	if a.Size() != 1024<<10 {
		t.Fatalf("after m=1024: %d bytes, want %d", a.Size(), 1024<<10)
	}
	before := &a.b[0]
	IDKey(a, []byte("other"), []byte("saltsalt"), 2, 1024, 1, 32)
	if &a.b[0] != before {
		t.Error("the same cost allocated a new arena")
	}
	IDKey(a, []byte("pw"), []byte("saltsalt"), 1, 2050, 2, 32) // rounded down to 2048
	if a.Size() != 2048<<10 {
		t.Fatalf("after m=2050,p=2: %d bytes, want %d", a.Size(), 2048<<10)
	}
	a.Release()
	if a.Size() != 0 {
		t.Fatalf("after Release: %d bytes", a.Size())
	}
}

// TestIDKeyAllocations: with a sized arena, a hash allocates only its
// result and small bookkeeping, never the arena again.
func TestIDKeyAllocations(t *testing.T) {
	a := new(Arena)
	pw, salt := []byte("pw"), []byte("saltsalt")
	IDKey(a, pw, salt, 1, 4096, 1, 32)
	var ms, me runtime.MemStats
	runtime.ReadMemStats(&ms)
	IDKey(a, pw, salt, 1, 4096, 1, 32)
	runtime.ReadMemStats(&me)
	if grew := me.TotalAlloc - ms.TotalAlloc; grew > 64<<10 {
		t.Errorf("a hash with a sized 4 MiB arena allocated %d bytes", grew)
	}
}

func BenchmarkIDKeyDefault(b *testing.B) {
	pw, salt := []byte("seven lanterns over a quiet harbour"), []byte("0123456789abcdef")
	b.Run("x-crypto", func(b *testing.B) {
		for b.Loop() {
			argon2.IDKey(pw, salt, 2, 19456, 1, 32)
		}
	})
	b.Run("arena", func(b *testing.B) {
		a := new(Arena)
		for b.Loop() {
			IDKey(a, pw, salt, 2, 19456, 1, 32)
		}
	})
}
