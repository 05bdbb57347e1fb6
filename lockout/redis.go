package lockout

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// incrScript increments a counter and, when the window is set and the counter
// has no expiry yet (first increment, or a policy that gained a window), sets
// it — in one atomic round trip, so concurrent attempts on any replica each
// get a distinct count.
const incrScript = `
local n = redis.call('INCR', KEYS[1])
local window = tonumber(ARGV[1])
if window > 0 and redis.call('PTTL', KEYS[1]) < 0 then
  redis.call('PEXPIRE', KEYS[1], window)
end
return n`

// beginScript is Begin in one round trip: when the address (KEYS[2]) is at
// its limit (ARGV[2] > 0) it returns {address count, its PTTL, 0} without
// counting the account; otherwise it increments the account (KEYS[1]) like
// incrScript and returns {0, 0, account count}.
const beginScript = `
local limit = tonumber(ARGV[2])
if limit > 0 then
  local a = tonumber(redis.call('GET', KEYS[2]) or '0')
  if a >= limit then return {a, redis.call('PTTL', KEYS[2]), 0} end
end
local n = redis.call('INCR', KEYS[1])
local window = tonumber(ARGV[1])
if window > 0 and redis.call('PTTL', KEYS[1]) < 0 then
  redis.call('PEXPIRE', KEYS[1], window)
end
return {0, 0, n}`

// peekScript returns a counter and its remaining time to live in milliseconds
// (negative when it has none).
const peekScript = `
local n = redis.call('GET', KEYS[1])
if not n then return {0, -2} end
return {tonumber(n), redis.call('PTTL', KEYS[1])}`

// decrScript subtracts one from a counter that is above zero, keeping its
// expiry; a missing counter stays missing.
const decrScript = `
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n > 0 then return redis.call('DECR', KEYS[1]) end
return 0`

// RedisCounter keeps counters in Redis, shared by every replica.
type RedisCounter struct {
	c      redis.Scripter
	del    func(ctx context.Context, keys ...string) *redis.IntCmd
	prefix string
	incr   *redis.Script
	peek   *redis.Script
	begin  *redis.Script
	decr   *redis.Script
}

// NewRedisCounter returns a counter over c whose keys start with prefix (for
// example "frontdesk:lockout:").
func NewRedisCounter(c redis.UniversalClient, prefix string) *RedisCounter {
	return &RedisCounter{c: c, del: c.Del, prefix: prefix,
		incr: redis.NewScript(incrScript), peek: redis.NewScript(peekScript), begin: redis.NewScript(beginScript),
		decr: redis.NewScript(decrScript)}
}

// Incr implements Counter.
func (r *RedisCounter) Incr(ctx context.Context, key string, window time.Duration) (int64, error) {
	n, err := r.incr.Run(ctx, r.c, []string{r.prefix + key}, window.Milliseconds()).Int64()
	if err != nil {
		return 0, fmt.Errorf("lockout: redis incr: %w", err)
	}
	return n, nil
}

// Peek implements Counter.
func (r *RedisCounter) Peek(ctx context.Context, key string) (int64, time.Duration, error) {
	vals, err := r.peek.Run(ctx, r.c, []string{r.prefix + key}).Int64Slice()
	if err != nil {
		return 0, 0, fmt.Errorf("lockout: redis peek: %w", err)
	}
	if len(vals) != 2 {
		return 0, 0, errors.New("lockout: redis peek: unexpected reply")
	}
	ttl := time.Duration(0)
	if vals[1] > 0 {
		ttl = time.Duration(vals[1]) * time.Millisecond
	}
	return vals[0], ttl, nil
}

// Decr implements Counter.
func (r *RedisCounter) Decr(ctx context.Context, key string) error {
	if err := r.decr.Run(ctx, r.c, []string{r.prefix + key}).Err(); err != nil {
		return fmt.Errorf("lockout: redis decr: %w", err)
	}
	return nil
}

// Reset implements Counter.
func (r *RedisCounter) Reset(ctx context.Context, key string) error {
	if err := r.del(ctx, r.prefix+key).Err(); err != nil {
		return fmt.Errorf("lockout: redis reset: %w", err)
	}
	return nil
}

// CheckAndIncr implements the one-round-trip Begin: see beginScript.
func (r *RedisCounter) CheckAndIncr(ctx context.Context, addrKey string, addrLimit int64, acctKey string, window time.Duration) (int64, time.Duration, int64, error) {
	vals, err := r.begin.Run(ctx, r.c, []string{r.prefix + acctKey, r.prefix + addrKey}, window.Milliseconds(), addrLimit).Int64Slice()
	if err != nil {
		return 0, 0, 0, fmt.Errorf("lockout: redis begin: %w", err)
	}
	if len(vals) != 3 {
		return 0, 0, 0, errors.New("lockout: redis begin: unexpected reply")
	}
	ttl := time.Duration(0)
	if vals[1] > 0 {
		ttl = time.Duration(vals[1]) * time.Millisecond
	}
	return vals[0], ttl, vals[2], nil
}
