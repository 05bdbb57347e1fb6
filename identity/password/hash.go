package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/argon2"
)

// ErrMalformedHash is wrapped by the errors [Hasher.Verify] returns when the
// encoded hash cannot be parsed or carries parameters outside the accepted
// bounds.
var ErrMalformedHash = errors.New("password: malformed hash")

// ErrBusy is wrapped by the errors of [Hasher.Hash] and [Hasher.Verify] when
// a hasher made by [NewBoundedHasher] is at capacity: every slot is busy and
// the wait queue is full, or no slot came free within the maximum wait.
// Callers answer "try again later" (HTTP 503 with Retry-After) rather than
// queue without bound.
var ErrBusy = errors.New("password: all hashing slots busy")

const (
	// saltLen and keyLen are what Hash produces.
	saltLen = 16
	keyLen  = 32

	// Bounds applied to stored hashes before any work is done.
	minSaltKeyLen = 8
	maxSaltKeyLen = 128
	maxMemoryKiB  = 4 << 20 // 4 GiB expressed in KiB
	maxIterations = 64
	// maxEncodedLen comfortably exceeds the longest hash the bounds above
	// allow (about 390 bytes).
	maxEncodedLen = 512

	// OWASP's argon2id floor.
	floorMemoryKiB = 7168
	floorCost      = 35840 // MemoryKiB * Iterations of every OWASP row

	phcAlgorithm = "argon2id"
	phcVersion   = "v=19"
)

// b64 is unpadded standard base64 that also rejects non-zero trailing bits,
// so every salt and key has exactly one accepted encoding.
var b64 = base64.RawStdEncoding.Strict()

// Params are argon2id cost parameters.
type Params struct {
	MemoryKiB   uint32 // default 19456 (19 MiB, OWASP minimum row)
	Iterations  uint32 // default 2
	Parallelism uint8  // default 1
}

// DefaultParams returns OWASP's minimum recommended argon2id parameters:
// 19 MiB of memory, 2 iterations and 1 lane.
func DefaultParams() Params {
	return Params{MemoryKiB: 19456, Iterations: 2, Parallelism: 1}
}

// Validate reports an error when p is below OWASP's argon2id floor. The
// floor rows are (m=47104,t=1), (m=19456,t=2), (m=12288,t=3), (m=9216,t=4)
// and (m=7168,t=5); p is accepted when MemoryKiB >= 7168,
// MemoryKiB*Iterations >= 35840 and Parallelism >= 1. It also rejects values
// above the bounds [Hasher.Verify] accepts in stored hashes (4 GiB of memory,
// 64 iterations), since such hashes could never be verified. The error text
// names each value that is out of range.
func (p Params) Validate() error {
	var problems []string
	if p.Parallelism < 1 {
		problems = append(problems, "parallelism 0 is too low: it must be at least 1")
	}
	if p.Iterations < 1 {
		problems = append(problems, "iterations 0 is too low: it must be at least 1")
	} else if p.Iterations > maxIterations {
		problems = append(problems, fmt.Sprintf("iterations %d is too high: it must be at most %d", p.Iterations, maxIterations))
	}
	switch {
	case p.MemoryKiB < floorMemoryKiB:
		problems = append(problems, fmt.Sprintf("memory %d KiB is too low: it must be at least %d KiB", p.MemoryKiB, floorMemoryKiB))
	case p.MemoryKiB > maxMemoryKiB:
		problems = append(problems, fmt.Sprintf("memory %d KiB is too high: it must be at most %d KiB", p.MemoryKiB, maxMemoryKiB))
	case p.Iterations >= 1 && uint64(p.MemoryKiB)*uint64(p.Iterations) < floorCost:
		// Name the cheapest fix on either axis.
		needT := (floorCost + p.MemoryKiB - 1) / p.MemoryKiB
		needM := (floorCost + p.Iterations - 1) / p.Iterations
		problems = append(problems, fmt.Sprintf(
			"iterations %d is too low for memory %d KiB: use at least %d iterations, or at least %d KiB of memory (memory*iterations must be at least %d)",
			p.Iterations, p.MemoryKiB, needT, needM, floorCost))
	}
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("password: argon2id parameters below OWASP floor or out of range: %s", strings.Join(problems, "; "))
}

// Hasher hashes and verifies passwords with argon2id. It is safe for
// concurrent use.
type Hasher struct {
	params Params
	// sem holds one token per hash in progress; its capacity is the
	// concurrency limit.
	sem chan struct{}
	// maxQueue bounds how many callers may wait for a slot (0: unbounded);
	// maxWait bounds how long one waits (0: until ctx ends). waiting counts
	// the callers waiting now.
	maxQueue int64
	maxWait  time.Duration
	waiting  atomic.Int64
	// dummy is a well-formed hash with h's parameters that no password
	// matches; see VerifyDummy.
	dummy string
	// collect: a garbage collection ends every hash (SetCollectAfterHash).
	collect bool
	// queued, when set (tests), runs when a caller starts waiting for a
	// slot, so a test knows it waits without sleeping.
	queued func()
}

// NewHasher returns a hasher; concurrency bounds how many hashes run at once
// (<=0 means runtime.GOMAXPROCS(0)), so a login flood cannot exhaust memory:
// at most concurrency*p.MemoryKiB KiB is in use for hashing at any time.
//
// Zero fields of p are replaced by the corresponding [DefaultParams] value.
// NewHasher does not enforce the OWASP floor (call [Params.Validate] on
// configured values), but it panics when p is above the bounds that
// [Hasher.Verify] accepts in stored hashes (more than 4 GiB of memory or 64
// iterations), since every hash it produced would then be rejected.
func NewHasher(p Params, concurrency int) *Hasher {
	def := DefaultParams()
	if p.MemoryKiB == 0 {
		p.MemoryKiB = def.MemoryKiB
	}
	if p.Iterations == 0 {
		p.Iterations = def.Iterations
	}
	if p.Parallelism == 0 {
		p.Parallelism = def.Parallelism
	}
	if p.MemoryKiB > maxMemoryKiB || p.Iterations > maxIterations {
		panic(fmt.Sprintf("password: NewHasher: parameters m=%d,t=%d exceed the accepted maximum m=%d,t=%d",
			p.MemoryKiB, p.Iterations, maxMemoryKiB, maxIterations))
	}
	if p.MemoryKiB < 8*uint32(p.Parallelism) {
		// argon2 needs 8 KiB per lane; Verify rejects less.
		p.MemoryKiB = 8 * uint32(p.Parallelism)
	}
	if concurrency <= 0 {
		concurrency = runtime.GOMAXPROCS(0)
	}
	h := &Hasher{params: p, sem: make(chan struct{}, concurrency)}
	// The dummy key is random rather than derived: verifying against it costs
	// exactly what verifying against a real hash with the same parameters
	// costs, and no password can match it.
	h.dummy = encodeHash(p, randomBytes(saltLen), randomBytes(keyLen))
	return h
}

// NewBoundedHasher is [NewHasher] with a bounded wait for a hashing slot:
// at most queue callers wait (queue <= 0: unbounded) and none longer than
// maxWait (maxWait <= 0: until its context ends). A caller beyond either
// bound gets an error wrapping [ErrBusy] at once, so a login flood beyond
// capacity is refused quickly instead of piling up requests.
func NewBoundedHasher(p Params, concurrency, queue int, maxWait time.Duration) *Hasher {
	h := NewHasher(p, concurrency)
	h.maxQueue = int64(max(queue, 0))
	h.maxWait = max(maxWait, 0)
	return h
}

// Params returns the parameters h hashes with.
func (h *Hasher) Params() Params { return h.params }

// Hash returns a PHC string: $argon2id$v=19$m=..,t=..,p=..$<b64 salt>$<b64 hash>
// (RawStdEncoding, 16-byte salt from crypto/rand, 32-byte key). Waiting for
// a hashing slot honours ctx.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	salt := randomBytes(saltLen)
	key, err := h.derive(ctx, password, salt, h.params, keyLen)
	if err != nil {
		return "", err
	}
	return encodeHash(h.params, salt, key), nil
}

// Verify checks password against encoded in constant time (crypto/subtle).
// needsRehash is true when encoded used different params than h's (cost
// parameters, or salt or key length); it is only ever true when ok is true,
// so callers can re-hash the password they just verified. A malformed
// encoded string is an error wrapping [ErrMalformedHash]. Waiting for a
// hashing slot honours ctx (returns ctx.Err() wrapped).
func (h *Hasher) Verify(ctx context.Context, encoded, password string) (ok, needsRehash bool, err error) {
	d, err := decodeHash(encoded)
	if err != nil {
		return false, false, err
	}
	key, err := h.derive(ctx, password, d.salt, d.params, uint32(len(d.key)))
	if err != nil {
		return false, false, err
	}
	if subtle.ConstantTimeCompare(key, d.key) != 1 {
		return false, false, nil
	}
	needsRehash = d.params != h.params || len(d.salt) != saltLen || len(d.key) != keyLen
	return true, needsRehash, nil
}

// VerifyDummyErr is [Hasher.VerifyDummy] that also reports why no hash was
// evaluated: an error wrapping [ErrBusy] or the context's error. Callers use
// it so that an unknown account is refused the same way as a known one when
// the hasher is at capacity.
func (h *Hasher) VerifyDummyErr(ctx context.Context, password string) error {
	_, _, err := h.Verify(ctx, h.dummy, password)
	return err
}

// VerifyDummy spends the same time as Verify against a real hash and always
// reports false; use it for unknown accounts so unknown email and wrong
// password cost the same. It verifies against a fixed dummy hash with h's
// parameters, created once in [NewHasher]. Like Verify it waits for a
// hashing slot; if ctx ends first it returns early (still false), and the
// caller sees ctx.Err() itself.
func (h *Hasher) VerifyDummy(ctx context.Context, password string) bool {
	_, _, _ = h.Verify(ctx, h.dummy, password)
	return false
}

// derive runs argon2id once a hashing slot is free.
func (h *Hasher) derive(ctx context.Context, password string, salt []byte, p Params, n uint32) ([]byte, error) {
	// A request that is already over should not start (or queue for) a
	// memory-hard computation, even when a slot happens to be free.
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("password: waiting for a hashing slot: %w", err)
	}
	if err := h.acquire(ctx); err != nil {
		return nil, err
	}
	defer func() { <-h.sem }()

	pw := []byte(password)
	defer clear(pw)
	key := argon2.IDKey(pw, salt, p.Iterations, p.MemoryKiB, p.Parallelism, n)
	if h.collect {
		// Still holding the slot: the arena just used is garbage now and
		// is freed before this slot's next hash allocates another.
		runtime.GC()
	}
	return key, nil
}

// SetCollectAfterHash makes every hash end with a garbage collection before
// its slot is released. golang.org/x/crypto/argon2 allocates a fresh arena
// of the full memory cost for every hash (it has no API to reuse one), and
// with the collector left to its pacing, dead arenas piled up between
// collections: the memory that hashing held was bounded by collection lag,
// not by the slots. Collecting after each hash frees the arena before the
// slot can allocate the next, so at most about one arena per slot is ever
// held (issue 20 point 4: the peak at 32 concurrent logins fell from
// 117-120 MB to 78-79 MB, with no more CPU per login, docs/performance.md).
// frontdesk serve turns it on; call it before the hasher is used.
func (h *Hasher) SetCollectAfterHash(on bool) { h.collect = on }

// acquire takes a hashing slot, waiting within h's bounds.
func (h *Hasher) acquire(ctx context.Context) error {
	select {
	case h.sem <- struct{}{}:
		return nil
	default:
	}
	if h.maxQueue > 0 {
		if h.waiting.Add(1) > h.maxQueue {
			h.waiting.Add(-1)
			return fmt.Errorf("password: waiting for a hashing slot: %w", ErrBusy)
		}
		defer h.waiting.Add(-1)
	}
	if h.queued != nil {
		h.queued()
	}
	var timeout <-chan time.Time
	if h.maxWait > 0 {
		t := time.NewTimer(h.maxWait)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case h.sem <- struct{}{}:
		return nil
	case <-timeout:
		return fmt.Errorf("password: waited %s for a hashing slot: %w", h.maxWait, ErrBusy)
	case <-ctx.Done():
		return fmt.Errorf("password: waiting for a hashing slot: %w", ctx.Err())
	}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	// crypto/rand.Read never returns an error on supported platforms (it
	// crashes the program instead); the check is defensive.
	if _, err := rand.Read(b); err != nil {
		panic("password: crypto/rand failed: " + err.Error())
	}
	return b
}

func encodeHash(p Params, salt, key []byte) string {
	return fmt.Sprintf("$%s$%s$m=%d,t=%d,p=%d$%s$%s",
		phcAlgorithm, phcVersion, p.MemoryKiB, p.Iterations, p.Parallelism,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

type decoded struct {
	params    Params
	salt, key []byte
}

// decodeHash parses an argon2id PHC string strictly and bounds its
// parameters before anything is allocated in proportion to them. Error
// messages never include the salt or key.
func decodeHash(s string) (decoded, error) {
	var d decoded
	if len(s) > maxEncodedLen {
		return d, fmt.Errorf("%w: longer than %d bytes", ErrMalformedHash, maxEncodedLen)
	}
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" {
		return d, fmt.Errorf("%w: want 5 '$'-separated fields", ErrMalformedHash)
	}
	if parts[1] != phcAlgorithm {
		return d, fmt.Errorf("%w: algorithm is not %s", ErrMalformedHash, phcAlgorithm)
	}
	if parts[2] != phcVersion {
		return d, fmt.Errorf("%w: unsupported version (want %s)", ErrMalformedHash, phcVersion)
	}

	fields := strings.Split(parts[3], ",")
	if len(fields) != 3 {
		return d, fmt.Errorf("%w: want parameters m, t and p", ErrMalformedHash)
	}
	m, err := parseParam(fields[0], "m", maxMemoryKiB)
	if err != nil {
		return d, err
	}
	t, err := parseParam(fields[1], "t", maxIterations)
	if err != nil {
		return d, err
	}
	p, err := parseParam(fields[2], "p", 255)
	if err != nil {
		return d, err
	}
	if t < 1 || p < 1 {
		return d, fmt.Errorf("%w: t and p must be at least 1", ErrMalformedHash)
	}
	if m < 8*p {
		return d, fmt.Errorf("%w: m must be at least 8*p", ErrMalformedHash)
	}
	d.params = Params{MemoryKiB: m, Iterations: t, Parallelism: uint8(p)}

	if d.salt, err = decodeB64(parts[4], "salt"); err != nil {
		return d, err
	}
	if d.key, err = decodeB64(parts[5], "key"); err != nil {
		return d, err
	}
	return d, nil
}

// parseParam parses "name=value" where value is a canonical decimal (no
// sign, no leading zeros) no greater than limit.
func parseParam(field, name string, limit uint32) (uint32, error) {
	v, ok := strings.CutPrefix(field, name+"=")
	if !ok {
		return 0, fmt.Errorf("%w: want parameter %s", ErrMalformedHash, name)
	}
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil || strconv.FormatUint(n, 10) != v {
		return 0, fmt.Errorf("%w: parameter %s is not a canonical decimal number", ErrMalformedHash, name)
	}
	if n > uint64(limit) {
		return 0, fmt.Errorf("%w: parameter %s exceeds %d", ErrMalformedHash, name, limit)
	}
	return uint32(n), nil
}

// decodeB64 decodes a salt or key, requiring 8..128 bytes and the canonical
// encoding. The length is checked before decoding so oversized input is
// never allocated for.
func decodeB64(s, what string) ([]byte, error) {
	if len(s) < b64.EncodedLen(minSaltKeyLen) || len(s) > b64.EncodedLen(maxSaltKeyLen) {
		return nil, fmt.Errorf("%w: %s length must be %d to %d bytes", ErrMalformedHash, what, minSaltKeyLen, maxSaltKeyLen)
	}
	b, err := b64.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %s is not valid unpadded base64", ErrMalformedHash, what)
	}
	// The decoder skips '\r' and '\n'; insist on the one canonical form.
	if b64.EncodedLen(len(b)) != len(s) || len(b) < minSaltKeyLen || len(b) > maxSaltKeyLen {
		return nil, fmt.Errorf("%w: %s is not canonical base64 of %d to %d bytes", ErrMalformedHash, what, minSaltKeyLen, maxSaltKeyLen)
	}
	return b, nil
}

// ParamsOf reports the cost parameters of a stored hash after the same strict
// parsing Verify applies; a malformed hash is an error wrapping
// ErrMalformedHash.
func ParamsOf(encoded string) (Params, error) {
	d, err := decodeHash(encoded)
	if err != nil {
		return Params{}, err
	}
	return d.params, nil
}
