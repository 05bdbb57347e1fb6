// Package lockouttest gives tests real Redis: the machine's shared server
// (with a key prefix of their own, so tests never see each other's counters)
// or a private redis-server they may stop and restart.
//
// The shared server is found at $FRONTDESK_TEST_REDIS_URL (default
// redis://127.0.0.1:6379/0). When it cannot be reached the test is skipped —
// except under CI=true, where a missing Redis fails the run.
package lockouttest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/frontdeskhq/frontdesk/lockout"
)

// DefaultRedisURL is used when FRONTDESK_TEST_REDIS_URL is not set.
const DefaultRedisURL = "redis://127.0.0.1:6379/0"

// RedisURL reports the URL of the shared test Redis.
func RedisURL() string {
	if u := os.Getenv("FRONTDESK_TEST_REDIS_URL"); u != "" {
		return u
	}
	return DefaultRedisURL
}

func missing(t testing.TB, what string, err error) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("lockouttest: %s is required under CI=true: %v", what, err)
	}
	t.Skipf("lockouttest: %s unavailable (%v); set CI=true to make this a failure", what, err)
}

// RequireRedis returns a client of the shared test Redis, closed when the test
// ends; it skips the test when Redis is unreachable, or fails it under CI=true.
func RequireRedis(t testing.TB) *redis.Client {
	t.Helper()
	opts, err := redis.ParseURL(RedisURL())
	if err != nil {
		t.Fatalf("lockouttest: bad FRONTDESK_TEST_REDIS_URL: %v", err)
	}
	c := redis.NewClient(opts)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		_ = c.Close()
		missing(t, "Redis at "+RedisURL(), err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Prefix returns a fresh key prefix; keys under it are deleted when the test
// ends.
func Prefix(t testing.TB, c *redis.Client) string {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	p := "fdtest:" + hex.EncodeToString(b[:]) + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		keys, err := c.Keys(ctx, p+"*").Result()
		if err == nil && len(keys) > 0 {
			_ = c.Del(ctx, keys...).Err()
		}
	})
	return p
}

// Counter returns a RedisCounter on the shared test Redis under a fresh prefix.
func Counter(t testing.TB) *lockout.RedisCounter {
	t.Helper()
	c := RequireRedis(t)
	return lockout.NewRedisCounter(c, Prefix(t, c))
}

// CounterAdvance returns a RedisCounter on the shared test Redis under a
// fresh prefix, and a function that moves its time forward (see Advance):
// its windows end when the test says, not when the real clock gets there.
func CounterAdvance(t testing.TB) (*lockout.RedisCounter, func(time.Duration)) {
	t.Helper()
	c := RequireRedis(t)
	prefix := Prefix(t, c)
	return lockout.NewRedisCounter(c, prefix), func(d time.Duration) {
		t.Helper()
		keys, err := c.Keys(context.Background(), prefix+"*").Result()
		if err != nil {
			t.Fatalf("lockouttest: keys: %v", err)
		}
		Advance(t, c, d, keys...)
	}
}

// Advance makes keys on c look as they would once d has passed: a key whose
// time to live is d or less is deleted, the others' is shortened by d; keys
// without an expiry are left alone. Tests use it instead of waiting for
// Redis to expire a window on the real clock.
func Advance(t testing.TB, c redis.UniversalClient, d time.Duration, keys ...string) {
	t.Helper()
	ctx := context.Background()
	for _, k := range keys {
		ttl, err := c.PTTL(ctx, k).Result()
		if err != nil {
			t.Fatalf("lockouttest: PTTL %s: %v", k, err)
		}
		switch {
		case ttl < 0: // no expiry (-1), or no key (-2)
		case ttl <= d:
			err = c.Del(ctx, k).Err()
		default:
			err = c.PExpire(ctx, k, ttl-d).Err()
		}
		if err != nil {
			t.Fatalf("lockouttest: advance %s: %v", k, err)
		}
	}
}

// Server is a private redis-server on a loopback port, without persistence.
type Server struct {
	t    testing.TB
	bin  string
	port int
	cmd  *exec.Cmd
}

// StartServer starts a private redis-server (from $PATH, or
// /usr/bin/redis-server) on a free loopback port; it is stopped when the test
// ends.
func StartServer(t testing.TB) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if _, serr := os.Stat("/usr/bin/redis-server"); serr != nil {
			missing(t, "redis-server", err)
		}
		bin = "/usr/bin/redis-server"
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	s := &Server{t: t, bin: bin, port: port}
	s.Start()
	t.Cleanup(s.Stop)
	return s
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// Client returns a client of the server that fails fast while it is down
// and works again at once when Start returns: its pool is too large for the
// failed dials of a test to open go-redis's dial circuit breaker, which
// would otherwise refuse commands until its once-a-second probe on the real
// clock got through.
func (s *Server) Client() *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: s.Addr(), DialTimeout: 500 * time.Millisecond,
		ReadTimeout: 500 * time.Millisecond, WriteTimeout: 500 * time.Millisecond, MaxRetries: 1, PoolSize: 1000})
	s.t.Cleanup(func() { _ = c.Close() })
	return c
}

// Start (re)starts the server on its port and waits until it answers.
func (s *Server) Start() {
	s.t.Helper()
	s.cmd = exec.Command(s.bin, "--save", "", "--appendonly", "no", "--port", strconv.Itoa(s.port),
		"--bind", "127.0.0.1", "--protected-mode", "yes")
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("lockouttest: start redis-server: %v", err)
	}
	c := redis.NewClient(&redis.Options{Addr: s.Addr(), DialTimeout: 200 * time.Millisecond})
	defer c.Close()
	// redis-server is another process: it is asked every 20 ms until it
	// answers; the only bound is a hang guard before the test's deadline.
	var guard <-chan time.Time
	if d, ok := s.t.(interface{ Deadline() (time.Time, bool) }); ok {
		if at, ok := d.Deadline(); ok {
			timer := time.NewTimer(time.Until(at) / 10 * 9)
			defer timer.Stop()
			guard = timer.C
		}
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return
		}
		select {
		case <-guard:
			s.t.Fatalf("lockouttest: redis-server on %s did not answer: %v", s.Addr(), err)
		case <-tick.C:
		}
	}
}

// Stop stops the server (its data is gone: it has no persistence).
func (s *Server) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

// String describes the server.
func (s *Server) String() string { return fmt.Sprintf("redis-server on %s", s.Addr()) }
