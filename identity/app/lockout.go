package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/frontdeskhq/frontdesk/identity/config"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/lockout"
)

// RedisKeyPrefix starts every key frontdesk's lockout counters use in Redis.
const RedisKeyPrefix = "frontdesk:lockout:"

// newGuard builds the lockout guard: counters in Redis when redis.url is set
// (shared by every replica), in the database otherwise. The returned closer
// (nil without Redis) releases the Redis client. An unreachable Redis does not
// stop the start: logins fail closed until it answers.
func newGuard(ctx context.Context, cfg *config.Config, st *store.Store, logger *slog.Logger) (lockout.Guard, io.Closer, error) {
	set := lockout.Settings{AddressLimit: cfg.Lockout.AddressLimit, AddressWindow: cfg.Lockout.AddressWindow}
	if cfg.Redis.URL == "" {
		return lockout.New(lockout.NewSQLCounter(st, time.Now), set), nil, nil
	}
	opts, err := redis.ParseURL(cfg.Redis.URL)
	if err != nil {
		// The URL may hold a password: name the key, not the value.
		return nil, nil, fmt.Errorf("config: redis.url is not usable; check its form (redis://HOST:PORT/DB)")
	}
	// Fail fast when Redis is down: the login is refused, not left hanging.
	opts.DialTimeout = 2 * time.Second
	opts.ReadTimeout = time.Second
	opts.WriteTimeout = time.Second
	opts.MaxRetries = 1
	// go-redis keeps one process-wide logger; the last App built sets it.
	redis.SetLogger(redisLogger{logger: logger})
	client := redis.NewClient(opts)
	pingCtx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := client.Ping(pingCtx).Err(); err != nil {
		logger.WarnContext(ctx, "redis does not answer; password logins are refused until it does", "err", err)
	}
	// Redis may lose counts (restart without persistence, failover to a
	// replica behind its master): each account's counts are rebuilt from the
	// failures in the audit trail the first time it is counted in a new run.
	// lockout.redis_recovery_grace must exceed the longest password
	// attempt: the hasher's queue wait is bounded by hashMaxWait (bounds.go).
	set.Durable, set.RecoveryGrace = st, cfg.Lockout.RedisRecoveryGrace
	// A brand-new deployment (its database has never seen a Redis run)
	// skips the grace: nothing can have been counted in a lost run.
	set.Runs = st
	return lockout.New(lockout.NewRedisCounter(client, RedisKeyPrefix), set), client, nil
}

// lockoutPolicy is the configured default policy.
func lockoutPolicy(c config.Lockout) lockout.Policy {
	return lockout.Policy{Threshold: c.Threshold, Window: c.Window, Blocks: lockout.Blocks(c.Blocks)}
}
