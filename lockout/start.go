package lockout

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrStartUnavailable means the start counter could not be reached: the
// start must be refused (fail closed, as password logins are), since letting
// it through uncounted would reopen the flood the limit exists to stop.
var ErrStartUnavailable = errors.New("lockout: start counter unavailable")

// Start kinds: what a StartLimiter counts separately.
const (
	// StartPasskeyLogin is the beginning of a passkey login ceremony.
	StartPasskeyLogin = "passkey-login"
	// StartPasskeyRegister is the beginning of a passkey registration.
	StartPasskeyRegister = "passkey-register"
	// StartSSO is the beginning of an SSO sign-in (login, invitation or
	// linking).
	StartSSO = "sso"
)

// StartSettings are a StartLimiter's tunables.
type StartSettings struct {
	// Limit is the number of starts of one kind from one client address per
	// Window; 0 disables the limit.
	Limit int
	// Window is the fixed window the starts are counted in; it begins with
	// the first start and does not slide.
	Window time.Duration
}

// StartLimiter bounds how often one client address may begin a ceremony that
// stores state until it expires (a passkey challenge, a begun SSO sign-in),
// so nobody can fill the store by beginning them in a loop. It counts in the
// same shared Counter as the Limiter, so every replica sees one count.
type StartLimiter struct {
	c   Counter
	set StartSettings
}

// NewStartLimiter returns a StartLimiter over c. A window of 0 or less is one
// minute.
func NewStartLimiter(c Counter, set StartSettings) *StartLimiter {
	if set.Window <= 0 {
		set.Window = time.Minute
	}
	return &StartLimiter{c: c, set: set}
}

// Allow counts one start of kind from clientAddr. It returns nil when the
// start may go ahead, an error matching ErrThrottled (a *ThrottledError with
// the time until the window ends) when the address has used up its starts,
// and an error matching ErrStartUnavailable when the counter failed. In
// either error case nothing may be stored for the start. A nil StartLimiter,
// or one with Limit 0, allows every start.
func (l *StartLimiter) Allow(ctx context.Context, kind, clientAddr string) error {
	if l == nil || l.set.Limit <= 0 {
		return nil
	}
	key := StartKey(kind, clientAddr)
	n, err := l.c.Incr(ctx, key, l.set.Window)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrStartUnavailable, err)
	}
	if n <= int64(l.set.Limit) {
		return nil
	}
	retry := l.set.Window
	if _, ttl, err := l.c.Peek(ctx, key); err == nil && ttl > 0 {
		retry = ttl
	}
	return &ThrottledError{RetryAfter: max(retry, time.Second)}
}

// StartKey is the counter key of kind's starts from a client address:
// "start:<kind>:<address hash>", the address normalized as in AddressKey
// (IPv6 per /64) and hashed, so no address appears in Redis or the counters
// table.
func StartKey(kind, clientAddr string) string {
	return "start:" + kind + ":" + strings.TrimPrefix(AddressKey(clientAddr), "addr:")
}
