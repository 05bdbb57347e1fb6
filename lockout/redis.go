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

// beginScript is Limiter.Begin in one atomic round trip. KEYS: the account's
// attempt count, the address's failure count, the account's failure count,
// the run record (a hash: the Redis run ID last seen, and when it was first
// seen), the account's seen-in-run marker. ARGV: window (ms), address limit
// (0: none), threshold, recover (1: check the run), grace (ms), now (ms).
// Answers {status, count, wait ms, run}; the statuses are beginStatus's.
//
// The run: every Redis process has its own run_id (INFO server). A Redis
// restarted empty, or a replica promoted by a failover, answers with a run_id
// the run record does not hold (a restarted Redis has no record at all; a
// promoted replica has the old master's). The first attempt to see it
// records the new run and when; for the grace after that nothing is
// admitted, and then each account is counted only after its counts were
// rebuilt from the durable record (seedScript) in this run.
const beginScript = `
if ARGV[4] == '1' then
  local run = string.match(redis.call('INFO', 'server'), 'run_id:(%x+)')
  local now = tonumber(ARGV[6])
  if redis.call('HGET', KEYS[4], 'id') ~= run then
    redis.call('HSET', KEYS[4], 'id', run, 'since', now)
  end
  if redis.call('GET', KEYS[5]) ~= run then
    local wait = tonumber(redis.call('HGET', KEYS[4], 'since')) + tonumber(ARGV[5]) - now
    if wait > 0 then return {4, 0, wait, run} end
    return {5, 0, 0, run}
  end
end
local limit = tonumber(ARGV[2])
if limit > 0 then
  local a = tonumber(redis.call('GET', KEYS[2]) or '0')
  if a >= limit then return {3, 0, redis.call('PTTL', KEYS[2]), ''} end
end
local n = redis.call('INCR', KEYS[1])
local window = tonumber(ARGV[1])
if window > 0 and redis.call('PTTL', KEYS[1]) < 0 then
  redis.call('PEXPIRE', KEYS[1], window)
end
if n > tonumber(ARGV[3]) then
  if tonumber(redis.call('GET', KEYS[3]) or '0') >= tonumber(ARGV[3]) then return {1, n, 0, ''} end
  redis.call('DECR', KEYS[1])
  return {2, 0, 0, ''}
end
return {0, n, 0, ''}`

// seedScript rebuilds an account's counts in a new run: when the run is still
// ARGV[1], the attempt and failure counts (KEYS[1], KEYS[2]) are raised to at
// least ARGV[2] (with the window ARGV[3] ms when they get one) and the
// account is marked counted in this run (KEYS[4], for ARGV[4] ms; a marker
// that expires only makes the next attempt rebuild again, which never lowers
// a count). KEYS[3] is the run record. Answers 1, or 0 when the run changed.
const seedScript = `
local run = string.match(redis.call('INFO', 'server'), 'run_id:(%x+)')
if run ~= ARGV[1] or redis.call('HGET', KEYS[3], 'id') ~= run then return 0 end
local d = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
for i = 1, 2 do
  if tonumber(redis.call('GET', KEYS[i]) or '0') < d then
    local ttl = redis.call('PTTL', KEYS[i])
    redis.call('SET', KEYS[i], d)
    if ttl > 0 then redis.call('PEXPIRE', KEYS[i], ttl)
    elseif window > 0 then redis.call('PEXPIRE', KEYS[i], window) end
  end
end
redis.call('SET', KEYS[4], run, 'PX', ARGV[4])
return 1`

// seenTTL is how long an account stays marked as counted in a run; after it
// the next attempt rebuilds its counts again (one database query).
const seenTTL = 24 * time.Hour

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

// endGraceScript ends the recovery grace of run ARGV[1] (the run record
// KEYS[1] then says it was first seen at 0) when it is still the run
// recorded; a later run is left alone. Answers 1, or 0 when the run changed.
const endGraceScript = `
local run = string.match(redis.call('INFO', 'server'), 'run_id:(%x+)')
if run ~= ARGV[1] or redis.call('HGET', KEYS[1], 'id') ~= run then return 0 end
redis.call('HSET', KEYS[1], 'since', 0)
return 1`

// RedisCounter keeps counters in Redis, shared by every replica.
type RedisCounter struct {
	c      redis.Scripter
	del    func(ctx context.Context, keys ...string) *redis.IntCmd
	prefix string
	incr   *redis.Script
	peek   *redis.Script
	begin  *redis.Script
	seed   *redis.Script
	decr   *redis.Script
	grace  *redis.Script
}

// NewRedisCounter returns a counter over c whose keys start with prefix (for
// example "frontdesk:lockout:").
func NewRedisCounter(c redis.UniversalClient, prefix string) *RedisCounter {
	return &RedisCounter{c: c, del: c.Del, prefix: prefix,
		incr: redis.NewScript(incrScript), peek: redis.NewScript(peekScript), begin: redis.NewScript(beginScript),
		seed: redis.NewScript(seedScript), decr: redis.NewScript(decrScript), grace: redis.NewScript(endGraceScript)}
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

// Begin is Limiter.Begin in one atomic round trip: see beginScript.
func (r *RedisCounter) Begin(ctx context.Context, q beginRequest) (beginResult, error) {
	rec := "0"
	if q.Recover {
		rec = "1"
	}
	vals, err := r.begin.Run(ctx, r.c, []string{r.prefix + q.AcctKey, r.prefix + q.AddrKey, r.prefix + q.FailKey,
		r.prefix + "run", r.prefix + "seen:" + q.AcctKey},
		q.Window.Milliseconds(), q.AddrLimit, q.Threshold, rec, q.Grace.Milliseconds(), q.Now.UnixMilli()).Slice()
	if err != nil {
		return beginResult{}, fmt.Errorf("lockout: redis begin: %w", err)
	}
	if len(vals) != 4 {
		return beginResult{}, errors.New("lockout: redis begin: unexpected reply")
	}
	status, ok1 := vals[0].(int64)
	count, ok2 := vals[1].(int64)
	wait, ok3 := vals[2].(int64)
	run, ok4 := vals[3].(string)
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return beginResult{}, errors.New("lockout: redis begin: unexpected reply")
	}
	return beginResult{Status: beginStatus(status), Count: count, Wait: time.Duration(max(wait, 0)) * time.Millisecond,
		Run: run}, nil
}

// Seed rebuilds an account's counts in run: see seedScript.
func (r *RedisCounter) Seed(ctx context.Context, run, acctKey, failKey string, failures int64, window time.Duration) (bool, error) {
	n, err := r.seed.Run(ctx, r.c, []string{r.prefix + acctKey, r.prefix + failKey, r.prefix + "run",
		r.prefix + "seen:" + acctKey}, run, failures, window.Milliseconds(), seenTTL.Milliseconds()).Int64()
	if err != nil {
		return false, fmt.Errorf("lockout: redis seed: %w", err)
	}
	return n == 1, nil
}

// EndGrace ends the recovery grace of run: see endGraceScript.
func (r *RedisCounter) EndGrace(ctx context.Context, run string) (bool, error) {
	n, err := r.grace.Run(ctx, r.c, []string{r.prefix + "run"}, run).Int64()
	if err != nil {
		return false, fmt.Errorf("lockout: redis end grace: %w", err)
	}
	return n == 1, nil
}
