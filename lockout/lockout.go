package lockout

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"sync/atomic"
	"time"
)

// ErrLocked means the account is locked: its password must not be evaluated.
var ErrLocked = errors.New("lockout: account locked")

// ErrBusy means every attempt the threshold allows is taken by attempts at
// the account still in flight, too few of which have failed to lock it: the
// password must not be evaluated now, but nothing is counted (Begin undid its
// increment) and the person may try again in a moment. Unknown addresses are
// counted like real accounts, so ErrBusy says nothing about whether the
// account exists.
var ErrBusy = errors.New("lockout: other attempts at this account are in flight")

// ErrRecovering means the counter lost its counts (a Redis restarted empty or
// failed over to a replica) and the attempt cannot be counted yet: for the
// recovery grace no attempt is admitted, so attempts let through before the
// loss have settled and their failures are in the durable record the counts
// are rebuilt from. The password must not be evaluated; a *RecoveringError
// says how long to wait.
var ErrRecovering = errors.New("lockout: counts are being rebuilt after the counter lost them")

// RecoveringError is ErrRecovering with the time until attempts are admitted
// again.
type RecoveringError struct {
	RetryAfter time.Duration
}

func (e *RecoveringError) Error() string {
	return fmt.Sprintf("%v; retry after %s", ErrRecovering, e.RetryAfter)
}

// Is makes errors.Is(err, ErrRecovering) true.
func (e *RecoveringError) Is(target error) bool { return target == ErrRecovering }

// ErrThrottled means too many attempts failed from the client's address; the
// login must be refused without counting against the account. A
// *ThrottledError carries how long to wait.
var ErrThrottled = errors.New("lockout: too many failed attempts from this address")

// ThrottledError is ErrThrottled with the time until the address may try again.
type ThrottledError struct {
	RetryAfter time.Duration
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("%v; retry after %s", ErrThrottled, e.RetryAfter)
}

// Is makes errors.Is(err, ErrThrottled) true.
func (e *ThrottledError) Is(target error) bool { return target == ErrThrottled }

// RetryAfterSeconds is the wait as an HTTP Retry-After value (whole seconds,
// at least 1).
func (e *ThrottledError) RetryAfterSeconds() string { return RetryAfterSeconds(e.RetryAfter) }

// Blocks says which login methods a lock blocks.
type Blocks string

// The lock policies.
const (
	// BlocksPassword: a lock blocks password-based login only (password,
	// temporary password, reset link); passkeys and SSO still work, so an
	// attacker who knows an email address cannot lock its owner out.
	BlocksPassword Blocks = "password"
	// BlocksAll: a lock blocks every login method.
	BlocksAll Blocks = "all"
)

// MethodPassword is the amr value of password login (RFC 8176).
const MethodPassword = "pwd"

// Policy is a practice's lockout policy.
type Policy struct {
	// Threshold is the number of failed attempts that locks an account (>= 1).
	Threshold int
	// Window bounds how long failures are remembered; 0 counts them until a
	// successful login or an unlock resets the count.
	Window time.Duration
	// Blocks says which methods a lock blocks.
	Blocks Blocks
}

// The bounds of a policy's threshold, for the configuration, a practice's
// settings and Validate alike.
const (
	MinThreshold = 1
	MaxThreshold = 100
)

// DefaultPolicy is seed 001's: lock after 3 failed attempts, count until reset,
// block password login only.
func DefaultPolicy() Policy { return Policy{Threshold: 3, Blocks: BlocksPassword} }

// Validate reports what is wrong with p.
func (p Policy) Validate() error {
	var errs []error
	if p.Threshold < MinThreshold || p.Threshold > MaxThreshold {
		errs = append(errs, fmt.Errorf("threshold %d must be between %d and %d", p.Threshold, MinThreshold, MaxThreshold))
	}
	if p.Window < 0 {
		errs = append(errs, fmt.Errorf("window %s must not be negative (0 counts until reset)", p.Window))
	}
	if p.Blocks != BlocksPassword && p.Blocks != BlocksAll {
		errs = append(errs, fmt.Errorf("blocks %q must be %q or %q", p.Blocks, BlocksPassword, BlocksAll))
	}
	return errors.Join(errs...)
}

// WithSettings returns p overridden by a practice's settings: the object under
// the "lockout" key may set "threshold" (number), "window" (Go duration
// string, "0" for none) and "blocks" ("password" or "all"). Invalid values are
// ignored (the default stays) and reported in the error.
func (p Policy) WithSettings(settings map[string]any) (Policy, error) {
	raw, ok := settings["lockout"].(map[string]any)
	if !ok {
		return p, nil
	}
	var errs []error
	out := p
	if v, ok := raw["threshold"]; ok {
		f, isNum := v.(float64)
		if n := int(f); isNum && float64(n) == f && n >= MinThreshold && n <= MaxThreshold {
			out.Threshold = n
		} else {
			errs = append(errs, fmt.Errorf("lockout.threshold %v: want a whole number %d..%d", v, MinThreshold, MaxThreshold))
		}
	}
	if v, ok := raw["window"]; ok {
		s, _ := v.(string)
		d, err := time.ParseDuration(s)
		if err == nil && d >= 0 {
			out.Window = d
		} else {
			errs = append(errs, fmt.Errorf("lockout.window %v: want a duration such as \"15m\" or \"0\"", v))
		}
	}
	if v, ok := raw["blocks"]; ok {
		s, _ := v.(string)
		if b := Blocks(s); b == BlocksPassword || b == BlocksAll {
			out.Blocks = b
		} else {
			errs = append(errs, fmt.Errorf("lockout.blocks %v: want \"password\" or \"all\"", v))
		}
	}
	return out, errors.Join(errs...)
}

// BlocksMethod reports whether a lock under p blocks login with method (an
// amr value). Password login is always blocked.
func (p Policy) BlocksMethod(method string) bool {
	return method == MethodPassword || p.Blocks == BlocksAll
}

// Counter is an atomic, shared, optionally expiring counter.
type Counter interface {
	// Incr atomically adds one to key and returns the new count. The first
	// increment starts the window: with window > 0 the count disappears
	// window later; with 0 it stays until Reset.
	Incr(ctx context.Context, key string, window time.Duration) (int64, error)
	// Peek returns key's count and the time until it expires (0 when it does
	// not expire or does not exist).
	Peek(ctx context.Context, key string) (int64, time.Duration, error)
	// Decr atomically subtracts one from key when it is above zero.
	Decr(ctx context.Context, key string) error
	// Reset removes key.
	Reset(ctx context.Context, key string) error
}

// Attempt identifies one login attempt.
type Attempt struct {
	PracticeID string
	// AccountKey identifies the account independent of spelling
	// (store.EmailKey of the address).
	AccountKey string
	// ClientAddr is the client's IP address as derived by the HTTP layer.
	ClientAddr string
	// Policy is the practice's lockout policy.
	Policy Policy
}

// Ticket is what Begin hands out for an attempt it let through.
type Ticket struct {
	// Count is the attempt's number in the account's current count.
	Count int64
	// Rebuilt is set with ErrLocked when this Begin rebuilt the account's
	// counts from the durable record and they reached the threshold: the
	// failure that reached it may have been counted only in the lost
	// counts, so the caller makes sure the durable lock is written.
	Rebuilt bool
}

// Failure is what Failed found.
type Failure struct {
	// Lock: this failure reached the threshold; the caller writes the
	// durable lock.
	Lock bool
	// Failures is the account's count of failed attempts including this one
	// (0 when it could not be read).
	Failures int64
	// AddressLimitReached: this failure brought the client address to the
	// limit; later attempts from it are throttled.
	AddressLimitReached bool
}

// Guard is consulted around every password verification.
type Guard interface {
	// Begin counts the attempt before any password hash is evaluated. It
	// returns ErrLocked when the account's failures reached the threshold,
	// ErrBusy when the threshold's attempts are all in flight (nothing is
	// counted then), an error matching ErrThrottled when the client address
	// is throttled, one matching ErrRecovering while counts lost with the
	// counter are being rebuilt, and any other error when the counter
	// failed; in every error case the password must not be evaluated.
	Begin(ctx context.Context, a Attempt) (Ticket, error)
	// Failed records a wrong password (or an attempt on an account that
	// cannot log in) after Begin let it through.
	Failed(ctx context.Context, a Attempt, t Ticket) (Failure, error)
	// Succeeded records a correct password: the account's count is reset.
	Succeeded(ctx context.Context, a Attempt) error
	// Release gives back an attempt Begin let through that ended with no
	// verdict on the password (the hasher was busy, a dependency failed), so
	// it neither counts toward the threshold nor blocks later attempts.
	Release(ctx context.Context, a Attempt) error
	// Reset clears the account's count (unlock).
	Reset(ctx context.Context, practiceID, accountKey string) error
}

// Nop is a Guard that never locks or throttles.
type Nop struct{}

// Begin always allows.
func (Nop) Begin(context.Context, Attempt) (Ticket, error) { return Ticket{}, nil }

// Failed does nothing.
func (Nop) Failed(context.Context, Attempt, Ticket) (Failure, error) { return Failure{}, nil }

// Succeeded does nothing.
func (Nop) Succeeded(context.Context, Attempt) error { return nil }

// Release does nothing.
func (Nop) Release(context.Context, Attempt) error { return nil }

// Reset does nothing.
func (Nop) Reset(context.Context, string, string) error { return nil }

// Settings are a Limiter's practice-independent tunables.
type Settings struct {
	// AddressLimit is the number of failed attempts per client address,
	// across accounts and practices, after which logins from it are
	// throttled; 0 disables the address limit.
	AddressLimit int
	// AddressWindow is how long an address's failures are counted.
	AddressWindow time.Duration
	// Durable is the durable record of failed attempts that a counter which
	// can lose its counts (RedisCounter) rebuilds an account's counts from,
	// the first time the account is counted in a new Redis run. nil: counts
	// lost with the counter are not rebuilt (tests of the counter alone).
	Durable FailureRecord
	// RecoveryGrace is how long after a new Redis run is first seen no
	// attempt is admitted, so attempts let through before the loss settle
	// and reach the durable record first. It must exceed the longest a
	// password attempt takes from Begin to its recorded failure.
	RecoveryGrace time.Duration
	// Runs is the durable record of the Redis runs the counter has seen. A
	// new run the database has never seen one before (a brand-new
	// deployment) skips RecoveryGrace: no attempt can have been counted in a
	// lost run. nil: every new run waits out the grace.
	Runs RunRecord
	// Now is the clock of the recovery grace and of the durable record's
	// window; nil means time.Now.
	Now func() time.Time
}

// RunRecord is the durable record of the Redis runs the counter has seen;
// *store.Store implements it.
type RunRecord interface {
	// NoteRedisRun records run as the last Redis run seen, at, and reports
	// whether the database had never seen a Redis run before (first).
	NoteRedisRun(ctx context.Context, run string, at time.Time) (first bool, err error)
}

// FailureRecord is the durable record of failed password attempts;
// *store.Store implements it.
type FailureRecord interface {
	// RecentFailures counts the failed password attempts at the practice's
	// account with that account key (store.EmailKey) recorded after since
	// (zero: ever) and after the account's last successful login or unlock.
	// An address without an account has none.
	RecentFailures(ctx context.Context, practiceID, accountKey string, since time.Time) (int64, error)
}

// Limiter is the counting Guard.
type Limiter struct {
	c   Counter
	set Settings
	// noted is the Redis run last recorded in Settings.Runs, so that a run
	// is written once per process, not once per account.
	noted atomic.Pointer[string]
}

// New returns a Limiter over c.
func New(c Counter, set Settings) *Limiter {
	if set.AddressWindow <= 0 {
		set.AddressWindow = 15 * time.Minute
	}
	if set.Now == nil {
		set.Now = time.Now
	}
	return &Limiter{c: c, set: set}
}

// beginRequest is one Begin for a counter that does it in one round trip.
type beginRequest struct {
	AddrKey   string
	AddrLimit int64
	AcctKey   string
	FailKey   string
	Window    time.Duration
	Threshold int64
	// Recover: check that the account was counted in the counter's current
	// run, and if not, ask for its counts to be rebuilt (beginSeed) — after
	// Grace from the moment the run was first seen (Now).
	Recover bool
	Grace   time.Duration
	Now     time.Time
}

// beginStatus is what a one-round-trip Begin found.
type beginStatus int

// The answers of a one-round-trip Begin.
const (
	// beginAdmitted: the attempt is counted and let through.
	beginAdmitted beginStatus = iota
	// beginLocked: the account's failures reached the threshold.
	beginLocked
	// beginBusy: the threshold's attempts are in flight; not counted.
	beginBusy
	// beginThrottled: the address is at its limit; not counted.
	beginThrottled
	// beginRecovering: a new run began less than the grace ago.
	beginRecovering
	// beginSeed: the account's counts must be rebuilt in this run first.
	beginSeed
)

// beginResult is a one-round-trip Begin's answer.
type beginResult struct {
	Status beginStatus
	// Count is the account's attempt count (beginAdmitted, beginLocked).
	Count int64
	// Wait is the address's time to live (beginThrottled) or the rest of the
	// grace (beginRecovering).
	Wait time.Duration
	// Run identifies the counter's run (beginSeed), for Seed.
	Run string
}

// beginner is a Counter that does Begin's address check, account increment
// and failure check in one atomic round trip, and may lose its counts
// (RedisCounter).
type beginner interface {
	Begin(ctx context.Context, r beginRequest) (beginResult, error)
	// Seed raises the account's counts to at least failures and marks the
	// account counted in run; it reports false when the counter's run is no
	// longer run.
	Seed(ctx context.Context, run, acctKey, failKey string, failures int64, window time.Duration) (bool, error)
	// EndGrace ends the recovery grace of run; it reports false when the
	// counter's run is no longer run.
	EndGrace(ctx context.Context, run string) (bool, error)
}

// Begin implements Guard.
func (l *Limiter) Begin(ctx context.Context, a Attempt) (Ticket, error) {
	if b, ok := l.c.(beginner); ok {
		return l.beginAtomic(ctx, b, a)
	}
	if l.set.AddressLimit > 0 {
		n, ttl, err := l.c.Peek(ctx, AddressKey(a.ClientAddr))
		if err != nil {
			return Ticket{}, fmt.Errorf("lockout: address count: %w", err)
		}
		if n >= int64(l.set.AddressLimit) {
			if ttl < time.Second {
				ttl = time.Second
			}
			return Ticket{}, &ThrottledError{RetryAfter: ttl}
		}
	}
	acct := AccountKey(a.PracticeID, a.AccountKey)
	n, err := l.c.Incr(ctx, acct, a.Policy.Window)
	if err != nil {
		return Ticket{}, fmt.Errorf("lockout: account count: %w", err)
	}
	if n <= int64(threshold(a.Policy)) {
		return Ticket{Count: n}, nil
	}
	// Past the threshold: locked when enough attempts failed, busy when
	// attempts still in flight hold the count up.
	f, _, err := l.c.Peek(ctx, FailureKey(a.PracticeID, a.AccountKey))
	if err != nil {
		return Ticket{}, fmt.Errorf("lockout: failure count: %w", err)
	}
	if f >= int64(threshold(a.Policy)) {
		return Ticket{Count: n}, ErrLocked
	}
	if err := l.c.Decr(ctx, acct); err != nil {
		return Ticket{}, fmt.Errorf("lockout: account count: %w", err)
	}
	return Ticket{}, ErrBusy
}

// beginAtomic is Begin over a counter that does it in one round trip,
// rebuilding the account's counts from the durable record first when the
// counter began a new run since the account was last counted.
func (l *Limiter) beginAtomic(ctx context.Context, b beginner, a Attempt) (Ticket, error) {
	req := beginRequest{AddrKey: AddressKey(a.ClientAddr), AddrLimit: int64(l.set.AddressLimit),
		AcctKey: AccountKey(a.PracticeID, a.AccountKey), FailKey: FailureKey(a.PracticeID, a.AccountKey),
		Window: a.Policy.Window, Threshold: int64(threshold(a.Policy)),
		Recover: l.set.Durable != nil, Grace: l.set.RecoveryGrace}
	rebuilt := false
	for range 4 {
		req.Now = l.set.Now()
		res, err := b.Begin(ctx, req)
		if err != nil {
			return Ticket{}, fmt.Errorf("lockout: count: %w", err)
		}
		switch res.Status {
		case beginAdmitted:
			return Ticket{Count: res.Count}, nil
		case beginLocked:
			return Ticket{Count: res.Count, Rebuilt: rebuilt}, ErrLocked
		case beginBusy:
			return Ticket{}, ErrBusy
		case beginThrottled:
			return Ticket{}, &ThrottledError{RetryAfter: max(res.Wait, time.Second)}
		case beginRecovering:
			if !l.firstRun(ctx, b, res.Run, req.Now) {
				return Ticket{}, &RecoveringError{RetryAfter: max(res.Wait, time.Second)}
			}
			// A brand-new deployment: no attempt was counted in a lost
			// run, so there is nothing to wait for; count it afresh.
		case beginSeed:
			l.noteRun(ctx, res.Run, req.Now)
			var since time.Time
			if a.Policy.Window > 0 {
				since = req.Now.Add(-a.Policy.Window)
			}
			n, err := l.set.Durable.RecentFailures(ctx, a.PracticeID, a.AccountKey, since)
			if err != nil {
				return Ticket{}, fmt.Errorf("lockout: durable failures: %w", err)
			}
			if _, err := b.Seed(ctx, res.Run, req.AcctKey, req.FailKey, n, a.Policy.Window); err != nil {
				return Ticket{}, fmt.Errorf("lockout: rebuild counts: %w", err)
			}
			rebuilt = n >= req.Threshold
			// Count the attempt in the rebuilt counts (or, when the run
			// changed again meanwhile, start over).
		default:
			return Ticket{}, fmt.Errorf("lockout: count: unknown answer %d", res.Status)
		}
	}
	return Ticket{}, errors.New("lockout: count: the counter's run kept changing")
}

// firstRun reports whether run is the first Redis run the database has seen
// (it is recorded either way), having ended its grace for every replica. On
// any error it reports false: the grace stands.
func (l *Limiter) firstRun(ctx context.Context, b beginner, run string, now time.Time) bool {
	if l.set.Runs == nil || run == "" {
		return false
	}
	first, err := l.set.Runs.NoteRedisRun(ctx, run, now)
	if err != nil || !first {
		return false
	}
	l.noted.Store(&run)
	ended, err := b.EndGrace(ctx, run)
	return err == nil && ended
}

// noteRun records run as seen, once per process and run, so that a later run
// change is known to follow one. A failure is retried on the next rebuild.
func (l *Limiter) noteRun(ctx context.Context, run string, now time.Time) {
	if l.set.Runs == nil || run == "" {
		return
	}
	if p := l.noted.Load(); p != nil && *p == run {
		return
	}
	if _, err := l.set.Runs.NoteRedisRun(ctx, run, now); err == nil {
		l.noted.Store(&run)
	}
}

// Failed implements Guard. The lock is decided by the number of failed
// attempts, counted apart from the attempt count Begin keeps: attempts still
// in flight (which may well succeed) must not turn one wrong password into a
// lock. The attempt count keeps this failure, so the bound on evaluated
// passwords stays exact.
func (l *Limiter) Failed(ctx context.Context, a Attempt, t Ticket) (Failure, error) {
	var f Failure
	if t.Count > 0 {
		n, err := l.c.Incr(ctx, FailureKey(a.PracticeID, a.AccountKey), a.Policy.Window)
		if err != nil {
			// Without the failure count, fall back to the attempt count:
			// a lock too early is safer than none.
			f.Lock = t.Count >= int64(threshold(a.Policy))
			return f, fmt.Errorf("lockout: failure count: %w", err)
		}
		f.Failures = n
		f.Lock = n >= int64(threshold(a.Policy))
	}
	if l.set.AddressLimit > 0 {
		n, err := l.c.Incr(ctx, AddressKey(a.ClientAddr), l.set.AddressWindow)
		if err != nil {
			return f, fmt.Errorf("lockout: address count: %w", err)
		}
		f.AddressLimitReached = n == int64(l.set.AddressLimit)
	}
	return f, nil
}

// Succeeded implements Guard.
func (l *Limiter) Succeeded(ctx context.Context, a Attempt) error {
	return l.Reset(ctx, a.PracticeID, a.AccountKey)
}

// Release implements Guard.
func (l *Limiter) Release(ctx context.Context, a Attempt) error {
	if err := l.c.Decr(ctx, AccountKey(a.PracticeID, a.AccountKey)); err != nil {
		return fmt.Errorf("lockout: release: %w", err)
	}
	return nil
}

// Reset implements Guard.
func (l *Limiter) Reset(ctx context.Context, practiceID, accountKey string) error {
	if err := l.c.Reset(ctx, AccountKey(practiceID, accountKey)); err != nil {
		return fmt.Errorf("lockout: reset: %w", err)
	}
	if err := l.c.Reset(ctx, FailureKey(practiceID, accountKey)); err != nil {
		return fmt.Errorf("lockout: reset: %w", err)
	}
	return nil
}

func threshold(p Policy) int {
	if p.Threshold < 1 {
		return DefaultPolicy().Threshold
	}
	return p.Threshold
}

// AccountKey is the counter key of an account: a hash, so neither the email
// address nor the practice appear in Redis or in the counters table.
func AccountKey(practiceID, accountKey string) string {
	sum := sha256.Sum256([]byte(practiceID + "\x00" + accountKey))
	return "acct:" + hex.EncodeToString(sum[:16])
}

// FailureKey is the counter key of an account's failed attempts (AccountKey
// counts its attempts).
func FailureKey(practiceID, accountKey string) string {
	sum := sha256.Sum256([]byte(practiceID + "\x00" + accountKey))
	return "fail:" + hex.EncodeToString(sum[:16])
}

// AddressKey is the counter key of a client address. IPv6 addresses count per
// /64, the block one subscriber usually holds; an address that does not parse
// still gets a key (all such attempts share it), so it never escapes the count.
func AddressKey(addr string) string {
	norm := "unparsed:" + addr
	if a, err := netip.ParseAddr(addr); err == nil {
		a = a.Unmap().WithZone("")
		if a.Is6() {
			p, _ := a.Prefix(64)
			norm = p.String()
		} else {
			norm = a.String()
		}
	}
	sum := sha256.Sum256([]byte(norm))
	return "addr:" + hex.EncodeToString(sum[:16])
}

// RetryAfterSeconds renders d as a Retry-After value: whole seconds, at least 1.
func RetryAfterSeconds(d time.Duration) string {
	s := int64((d + time.Second - 1) / time.Second)
	if s < 1 {
		s = 1
	}
	return strconv.FormatInt(s, 10)
}
