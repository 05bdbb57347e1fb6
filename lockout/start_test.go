package lockout_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/lockout"
	"github.com/frontdeskhq/frontdesk/lockout/lockouttest"
)

// TestStartLimiter runs the start limit on every counter back end: the
// limit+1th start from one address is throttled with a Retry-After inside the
// window, another address and another kind still start, and the window resets.
func TestStartLimiter(t *testing.T) {
	const (
		limit  = 3
		window = time.Hour // ended by advance, never by the real clock
		a, b   = "203.0.113.7", "198.51.100.9"
	)
	counters(t, func(t *testing.T, c lockout.Counter, advance func(time.Duration)) {
		ctx := context.Background()
		l := lockout.NewStartLimiter(c, lockout.StartSettings{Limit: limit, Window: window})
		steps := []struct {
			name, kind, addr string
			throttled        bool
		}{
			{"1st", lockout.StartPasskeyLogin, a, false},
			{"2nd", lockout.StartPasskeyLogin, a, false},
			{"3rd", lockout.StartPasskeyLogin, a, false},
			{"4th is over the limit", lockout.StartPasskeyLogin, a, true},
			{"5th stays refused", lockout.StartPasskeyLogin, a, true},
			{"another address", lockout.StartPasskeyLogin, b, false},
			{"another kind", lockout.StartSSO, a, false},
		}
		for _, s := range steps {
			err := l.Allow(ctx, s.kind, s.addr)
			if !s.throttled {
				if err != nil {
					t.Fatalf("%s: Allow = %v, want nil", s.name, err)
				}
				continue
			}
			te, ok := errors.AsType[*lockout.ThrottledError](err)
			if !ok || !errors.Is(err, lockout.ErrThrottled) {
				t.Fatalf("%s: Allow = %v, want a ThrottledError", s.name, err)
			}
			if te.RetryAfter < time.Second || te.RetryAfter > window+time.Second {
				t.Errorf("%s: RetryAfter = %s", s.name, te.RetryAfter)
			}
		}
		advance(window + 100*time.Millisecond)
		for i := range limit {
			if err := l.Allow(ctx, lockout.StartPasskeyLogin, a); err != nil {
				t.Fatalf("start %d after the window: %v", i+1, err)
			}
		}
		if err := l.Allow(ctx, lockout.StartPasskeyLogin, a); !errors.Is(err, lockout.ErrThrottled) {
			t.Fatalf("limit+1th start in the new window: %v", err)
		}
	})
}

// TestStartLimiterOff: a limit of 0, or no limiter, allows every start.
func TestStartLimiterOff(t *testing.T) {
	var nilLimiter *lockout.StartLimiter
	off := lockout.NewStartLimiter(failingCounter{}, lockout.StartSettings{Limit: 0})
	for _, l := range []*lockout.StartLimiter{nilLimiter, off} {
		for range 100 {
			if err := l.Allow(context.Background(), lockout.StartSSO, "203.0.113.7"); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestStartLimiterRedisDown: with the counter unreachable, starts are refused
// (ErrStartUnavailable), and counted again when it is back.
func TestStartLimiterRedisDown(t *testing.T) {
	srv := lockouttest.StartServer(t)
	c := lockout.NewRedisCounter(srv.Client(), "frontdesk:lockout:")
	l := lockout.NewStartLimiter(c, lockout.StartSettings{Limit: 2, Window: time.Minute})
	ctx := context.Background()
	if err := l.Allow(ctx, lockout.StartSSO, "203.0.113.7"); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	if err := l.Allow(ctx, lockout.StartSSO, "203.0.113.7"); !errors.Is(err, lockout.ErrStartUnavailable) ||
		errors.Is(err, lockout.ErrThrottled) {
		t.Fatalf("Allow with Redis down = %v, want ErrStartUnavailable", err)
	}
	srv.Start() // returns once the server answers
	if err := l.Allow(ctx, lockout.StartSSO, "203.0.113.7"); err != nil {
		t.Fatalf("Allow after Redis returned = %v", err)
	}
}

func TestStartKey(t *testing.T) {
	tests := []struct {
		name       string
		a, b       string
		kindA      string
		kindB      string
		wantShared bool
	}{
		{"same IPv6 /64", "2001:db8:1:2::1", "2001:db8:1:2:ffff::9", "sso", "sso", true},
		{"other IPv6 /64", "2001:db8:1:2::1", "2001:db8:1:3::1", "sso", "sso", false},
		{"mapped IPv4", "::ffff:203.0.113.7", "203.0.113.7", "sso", "sso", true},
		{"other kind", "203.0.113.7", "203.0.113.7", "sso", "passkey-login", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ka, kb := lockout.StartKey(tt.kindA, tt.a), lockout.StartKey(tt.kindB, tt.b)
			if (ka == kb) != tt.wantShared {
				t.Errorf("StartKey(%q) = %q, StartKey(%q) = %q; shared want %v", tt.a, ka, tt.b, kb, tt.wantShared)
			}
			if !strings.HasPrefix(ka, "start:"+tt.kindA+":") || strings.Contains(ka, tt.a) {
				t.Errorf("StartKey = %q: want start:<kind>:<hash>", ka)
			}
		})
	}
}

// failingCounter fails every call.
type failingCounter struct{}

var errDown = errors.New("counter down")

func (failingCounter) Incr(context.Context, string, time.Duration) (int64, error) { return 0, errDown }
func (failingCounter) Peek(context.Context, string) (int64, time.Duration, error) {
	return 0, 0, errDown
}
func (failingCounter) Decr(context.Context, string) error  { return errDown }
func (failingCounter) Reset(context.Context, string) error { return errDown }
