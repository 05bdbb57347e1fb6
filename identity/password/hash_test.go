package password

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// testParams are deliberately tiny so the tests run fast; never use them
// outside tests.
var testParams = Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1}

func TestHashVerify(t *testing.T) {
	h := NewHasher(testParams, 4)
	ctx := context.Background()
	tests := []struct {
		name     string
		stored   string // password the hash is made from
		attempt  string
		wantOK   bool
		scenario string
	}{
		{"round trip", "correct horse battery staple", "correct horse battery staple", true, ""},
		{"wrong password", "correct horse battery staple", "correct horse battery stapler", false, ""},
		{"empty attempt", "correct horse battery staple", "", false, ""},
		{"unicode round trip", "колбаса гром синий тюльпан", "колбаса гром синий тюльпан", true, ""},
		{"cjk round trip", "我的密码是一个很长的句子吗你猜猜看", "我的密码是一个很长的句子吗你猜猜看", true, ""},
		{"emoji round trip", "🦄🌈 unicorns dance on rainbows 🎉", "🦄🌈 unicorns dance on rainbows 🎉", true, ""},
		{"trailing space is significant", "purple monkey dishwasher", "purple monkey dishwasher ", false, ""},
		{"missing trailing space is significant", "purple monkey dishwasher ", "purple monkey dishwasher", false, ""},
		{"leading space is significant", "purple monkey dishwasher", " purple monkey dishwasher", false, ""},
		{"case is significant", "Purple Monkey Dishwasher", "purple monkey dishwasher", false, ""},
		{"unicode case is significant", "КОЛБАСА гром синий тюльпан", "колбаса гром синий тюльпан", false, ""},
		// "é" precomposed (U+00E9) versus "e" + combining acute (U+0301).
		{"no unicode normalization", "caf\u00e9 au lait sur la terrasse", "cafe\u0301 au lait sur la terrasse", false, ""},
		{"no truncation", strings.Repeat("x", 100) + "a", strings.Repeat("x", 100) + "b", false, ""},
		{"embedded NUL is not a terminator", "abc\x00def", "abc", false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			encoded, err := h.Hash(ctx, tc.stored)
			if err != nil {
				t.Fatalf("Hash: %v", err)
			}
			ok, rehash, err := h.Verify(ctx, encoded, tc.attempt)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if ok != tc.wantOK {
				t.Errorf("Verify ok = %v, want %v", ok, tc.wantOK)
			}
			if rehash {
				t.Errorf("needsRehash = true for a hash made with the same params")
			}
		})
	}
}

func TestHashFormat(t *testing.T) {
	h := NewHasher(testParams, 1)
	a, err := h.Hash(context.Background(), "the same password twice")
	if err != nil {
		t.Fatal(err)
	}
	b, err := h.Hash(context.Background(), "the same password twice")
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Error("two hashes of the same password are equal; salt is not random")
	}
	if !strings.HasPrefix(a, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Errorf("hash %q does not have the expected PHC prefix", a)
	}
	d, err := decodeHash(a)
	if err != nil {
		t.Fatalf("decoding our own hash: %v", err)
	}
	if len(d.salt) != 16 || len(d.key) != 32 {
		t.Errorf("salt %d bytes, key %d bytes; want 16 and 32", len(d.salt), len(d.key))
	}
	if strings.Count(a, "=") != 4 { // v=, m=, t= and p=; no base64 padding
		t.Errorf("hash %q contains base64 padding", a)
	}
}

func TestNeedsRehash(t *testing.T) {
	ctx := context.Background()
	old := NewHasher(testParams, 1)
	encoded, err := old.Hash(ctx, "a long and boring passphrase")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		params Params
		want   bool
	}{
		{"same", testParams, false},
		{"more memory", Params{MemoryKiB: 128, Iterations: 1, Parallelism: 1}, true},
		{"more iterations", Params{MemoryKiB: 64, Iterations: 2, Parallelism: 1}, true},
		{"more lanes", Params{MemoryKiB: 64, Iterations: 1, Parallelism: 2}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := NewHasher(tc.params, 1)
			ok, rehash, err := h.Verify(ctx, encoded, "a long and boring passphrase")
			if err != nil || !ok {
				t.Fatalf("Verify = %v, %v; want ok", ok, err)
			}
			if rehash != tc.want {
				t.Errorf("needsRehash = %v, want %v", rehash, tc.want)
			}
			// A wrong password never asks for a rehash.
			if _, rehash, _ := h.Verify(ctx, encoded, "wrong"); rehash {
				t.Error("needsRehash = true for a wrong password")
			}
		})
	}

	// A shorter salt than we produce today also asks for a rehash.
	short := encodeHash(testParams, []byte("8bytesal"), mustKey(t, "pw", []byte("8bytesal")))
	if ok, rehash, err := old.Verify(ctx, short, "pw"); err != nil || !ok || !rehash {
		t.Errorf("8-byte salt: Verify = %v, %v, %v; want true, true, nil", ok, rehash, err)
	}
}

func mustKey(t *testing.T, pw string, salt []byte) []byte {
	t.Helper()
	h := NewHasher(testParams, 1)
	key, err := h.derive(context.Background(), pw, salt, testParams, 32)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func TestVerifyMalformed(t *testing.T) {
	h := NewHasher(testParams, 1)
	good, err := h.Hash(context.Background(), "password for tampering")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, "$")
	salt, key := parts[4], parts[5]
	mk := func(alg, ver, params, s, k string) string {
		return "$" + alg + "$" + ver + "$" + params + "$" + s + "$" + k
	}
	tests := []struct {
		name    string
		encoded string
	}{
		{"empty", ""},
		{"garbage", "not a hash"},
		{"bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"},
		{"argon2i", mk("argon2i", "v=19", "m=64,t=1,p=1", salt, key)},
		{"argon2d", mk("argon2d", "v=19", "m=64,t=1,p=1", salt, key)},
		{"old version", mk("argon2id", "v=16", "m=64,t=1,p=1", salt, key)},
		{"missing version", "$argon2id$m=64,t=1,p=1$" + salt + "$" + key},
		{"too few fields", strings.Join(parts[:5], "$")},
		{"extra field", good + "$extra"},
		{"no leading dollar", good[1:]},
		{"params out of order", mk("argon2id", "v=19", "t=1,m=64,p=1", salt, key)},
		{"extra param", mk("argon2id", "v=19", "m=64,t=1,p=1,keyid=abc", salt, key)},
		{"missing param", mk("argon2id", "v=19", "m=64,t=1", salt, key)},
		{"negative m", mk("argon2id", "v=19", "m=-64,t=1,p=1", salt, key)},
		{"plus sign", mk("argon2id", "v=19", "m=+64,t=1,p=1", salt, key)},
		{"leading zero", mk("argon2id", "v=19", "m=064,t=1,p=1", salt, key)},
		{"hex", mk("argon2id", "v=19", "m=0x40,t=1,p=1", salt, key)},
		{"huge m", mk("argon2id", "v=19", "m=4194305,t=1,p=1", salt, key)},
		{"max uint32 m", mk("argon2id", "v=19", "m=4294967295,t=1,p=1", salt, key)},
		{"overflow m", mk("argon2id", "v=19", "m=99999999999999999999,t=1,p=1", salt, key)},
		{"huge t", mk("argon2id", "v=19", "m=64,t=65,p=1", salt, key)},
		{"zero t", mk("argon2id", "v=19", "m=64,t=0,p=1", salt, key)},
		{"zero p", mk("argon2id", "v=19", "m=64,t=1,p=0", salt, key)},
		{"p over 255", mk("argon2id", "v=19", "m=4096,t=1,p=256", salt, key)},
		{"m below 8p", mk("argon2id", "v=19", "m=15,t=1,p=2", salt, key)},
		{"empty salt", mk("argon2id", "v=19", "m=64,t=1,p=1", "", key)},
		{"short salt", mk("argon2id", "v=19", "m=64,t=1,p=1", "c2FsdA", key)},
		{"huge salt", mk("argon2id", "v=19", "m=64,t=1,p=1", strings.Repeat("A", 172), key)},
		{"short key", mk("argon2id", "v=19", "m=64,t=1,p=1", salt, "a2V5")},
		{"huge key", mk("argon2id", "v=19", "m=64,t=1,p=1", salt, strings.Repeat("A", 172))},
		{"padded salt", mk("argon2id", "v=19", "m=64,t=1,p=1", salt+"==", key)},
		{"url alphabet", mk("argon2id", "v=19", "m=64,t=1,p=1", strings.NewReplacer("+", "-", "/", "_").Replace(salt)+"-_", key)},
		{"newline in salt", mk("argon2id", "v=19", "m=64,t=1,p=1", salt[:4]+"\n"+salt[4:], key)},
		{"non-canonical trailing bits", mk("argon2id", "v=19", "m=64,t=1,p=1", salt[:len(salt)-1]+"B", key)},
		{"overlong", good + strings.Repeat("A", 600)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ok, rehash, err := h.Verify(context.Background(), tc.encoded, "password for tampering")
			if !errors.Is(err, ErrMalformedHash) {
				t.Fatalf("Verify err = %v, want ErrMalformedHash", err)
			}
			if ok || rehash {
				t.Errorf("Verify = %v, %v alongside an error", ok, rehash)
			}
		})
	}
}

func TestVerifyHugeMemoryDoesNotAllocate(t *testing.T) {
	h := NewHasher(testParams, 1)
	tampered := "$argon2id$v=19$m=4294967295,t=64,p=1$c2FsdHNhbHRzYWx0c2FsdA$" + strings.Repeat("A", 43)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range 10 {
		if _, _, err := h.Verify(context.Background(), tampered, "x"); !errors.Is(err, ErrMalformedHash) {
			t.Fatalf("Verify err = %v, want ErrMalformedHash", err)
		}
	}
	runtime.ReadMemStats(&after)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
		t.Errorf("rejecting a tampered hash allocated %d bytes", grew)
	}
}

func TestVerifyDummy(t *testing.T) {
	h := NewHasher(testParams, 1)
	for _, pw := range []string{"", "password", "correct horse battery staple", "\x00"} {
		if h.VerifyDummy(context.Background(), pw) {
			t.Errorf("VerifyDummy(%q) = true", pw)
		}
	}
	// The dummy is a well-formed hash with h's own parameters, so it costs
	// what a real verification costs.
	d, err := decodeHash(h.dummy)
	if err != nil {
		t.Fatalf("dummy hash is malformed: %v", err)
	}
	if d.params != h.Params() || len(d.salt) != saltLen || len(d.key) != keyLen {
		t.Errorf("dummy params %+v (salt %d, key %d); want %+v (16, 32)", d.params, len(d.salt), len(d.key), h.Params())
	}
}

func TestConcurrencyLimit(t *testing.T) {
	h := NewHasher(testParams, 1)
	encoded, err := h.Hash(context.Background(), "waiting in line")
	if err != nil {
		t.Fatal(err)
	}

	// Occupy the only hashing slot.
	h.sem <- struct{}{}

	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := h.Verify(cancelled, encoded, "waiting in line"); !errors.Is(err, context.Canceled) {
		t.Errorf("Verify with cancelled ctx: err = %v, want context.Canceled", err)
	}
	if _, err := h.Hash(cancelled, "x"); !errors.Is(err, context.Canceled) {
		t.Errorf("Hash with cancelled ctx: err = %v, want context.Canceled", err)
	}
	short, cancel2 := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel2()
	if _, _, err := h.Verify(short, encoded, "waiting in line"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Verify while slot held: err = %v, want context.DeadlineExceeded", err)
	}

	// A waiting Verify proceeds once the slot is released.
	queued := make(chan struct{}, 1)
	h.queued = func() { queued <- struct{}{} }
	done := make(chan error, 1)
	go func() {
		ok, _, err := h.Verify(context.Background(), encoded, "waiting in line")
		if err == nil && !ok {
			err = errors.New("ok = false")
		}
		done <- err
	}()
	// It either starts waiting for the slot or (wrongly) finishes.
	select {
	case <-queued:
	case err := <-done:
		t.Fatalf("Verify finished (%v) while the only slot was held", err)
	}
	<-h.sem
	if err := <-done; err != nil { // a Verify that never proceeds hangs until go test -timeout
		t.Errorf("Verify after release: %v", err)
	}

	// An already-cancelled ctx fails even when a slot is free: an abandoned
	// request should not start a memory-hard computation.
	if _, _, err := h.Verify(cancelled, encoded, "waiting in line"); !errors.Is(err, context.Canceled) {
		t.Errorf("Verify with cancelled ctx and a free slot: err = %v, want context.Canceled", err)
	}
	if len(h.sem) != 0 {
		t.Errorf("%d slots still held after all calls returned", len(h.sem))
	}
}

func TestConcurrencyBound(t *testing.T) {
	const limit = 3
	h := NewHasher(testParams, limit)
	if cap(h.sem) != limit {
		t.Fatalf("cap(sem) = %d, want %d", cap(h.sem), limit)
	}
	if got := cap(NewHasher(testParams, 0).sem); got != runtime.GOMAXPROCS(0) {
		t.Errorf("concurrency 0: cap(sem) = %d, want GOMAXPROCS %d", got, runtime.GOMAXPROCS(0))
	}
	// Many concurrent verifications all complete and release their slots.
	encoded, err := h.Hash(context.Background(), "many hands make light work")
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 20)
	for range 20 {
		go func() {
			if n := len(h.sem); n > limit {
				errs <- errors.New("too many slots held")
				return
			}
			ok, _, err := h.Verify(context.Background(), encoded, "many hands make light work")
			if err == nil && !ok {
				err = errors.New("ok = false")
			}
			errs <- err
		}()
	}
	for range 20 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if len(h.sem) != 0 {
		t.Errorf("%d slots still held", len(h.sem))
	}
}

func TestNewHasherDefaults(t *testing.T) {
	if got := NewHasher(Params{}, 1).Params(); got != DefaultParams() {
		t.Errorf("zero Params became %+v, want %+v", got, DefaultParams())
	}
	defer func() {
		if recover() == nil {
			t.Error("NewHasher with m above the accepted maximum did not panic")
		}
	}()
	NewHasher(Params{MemoryKiB: maxMemoryKiB + 1, Iterations: 1, Parallelism: 1}, 1)
}

func TestParamsValidate(t *testing.T) {
	tests := []struct {
		name    string
		p       Params
		wantErr string // substring; "" means valid
	}{
		{"default", DefaultParams(), ""},
		{"owasp row 1", Params{MemoryKiB: 47104, Iterations: 1, Parallelism: 1}, ""},
		{"owasp row 2", Params{MemoryKiB: 19456, Iterations: 2, Parallelism: 1}, ""},
		{"owasp row 3", Params{MemoryKiB: 12288, Iterations: 3, Parallelism: 1}, ""},
		{"owasp row 4", Params{MemoryKiB: 9216, Iterations: 4, Parallelism: 1}, ""},
		{"owasp row 5", Params{MemoryKiB: 7168, Iterations: 5, Parallelism: 1}, ""},
		{"generous", Params{MemoryKiB: 65536, Iterations: 3, Parallelism: 4}, ""},
		{"zero", Params{}, "parallelism"},
		{"zero parallelism", Params{MemoryKiB: 19456, Iterations: 2}, "parallelism"},
		{"zero iterations", Params{MemoryKiB: 19456, Parallelism: 1}, "iterations 0 is too low"},
		{"memory below floor", Params{MemoryKiB: 7167, Iterations: 10, Parallelism: 1}, "memory 7167 KiB is too low"},
		{"test params", testParams, "memory 64 KiB is too low"},
		{"product at floor, t=1", Params{MemoryKiB: 35840, Iterations: 1, Parallelism: 1}, ""},
		{"product below floor, t=1", Params{MemoryKiB: 35839, Iterations: 1, Parallelism: 1}, "iterations 1 is too low"},
		{"product below floor, t=2", Params{MemoryKiB: 17919, Iterations: 2, Parallelism: 1}, "iterations 2 is too low"},
		{"row 5 with fewer iterations", Params{MemoryKiB: 7168, Iterations: 4, Parallelism: 1}, "iterations 4 is too low"},
		{"memory too high", Params{MemoryKiB: maxMemoryKiB + 1, Iterations: 2, Parallelism: 1}, "too high"},
		{"iterations too high", Params{MemoryKiB: 19456, Iterations: 65, Parallelism: 1}, "iterations 65 is too high"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.p.Validate()
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tc.wantErr != "" && err == nil:
				t.Errorf("Validate() = nil, want error containing %q", tc.wantErr)
			case tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr):
				t.Errorf("Validate() = %q, want it to contain %q", err, tc.wantErr)
			}
		})
	}
}

func BenchmarkHashDefault(b *testing.B) {
	h := NewHasher(DefaultParams(), 0)
	ctx := context.Background()
	for b.Loop() {
		if _, err := h.Hash(ctx, "correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyDummy(b *testing.B) {
	h := NewHasher(DefaultParams(), 0)
	ctx := context.Background()
	for b.Loop() {
		h.VerifyDummy(ctx, "correct horse battery staple")
	}
}

// BenchmarkHashParallel is the hash-only ceiling of logins: argon2id with the
// default parameters on every core at once (GOMAXPROCS goroutines, one hash
// slot each), as a server's login slots run them. scripts/bench-peers.sh runs
// it right after its login rounds; hashes/s is the most logins/s the machine
// could serve, and cpu-µs/op is subtracted from a login's CPU to find what a
// login spends outside the hash.
func BenchmarkHashParallel(b *testing.B) {
	h := NewHasher(DefaultParams(), runtime.GOMAXPROCS(0))
	ctx := context.Background()
	var ru0 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	start := time.Now()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := h.Hash(ctx, "correct horse battery staple"); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	var ru1 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cpu := time.Duration(ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano())
	b.ReportMetric(float64(cpu)/float64(time.Microsecond)/float64(b.N), "cpu-µs/op")
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "hashes/s")
}
