package app

import (
	"io"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/frontdeskhq/frontdesk/identity/config"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/lockout"
)

// newStartLimiter builds the limit on passkey ceremony and SSO sign-in starts
// per client address, over the lockout counters' back end: Redis (shared by
// every replica) when redisClient is the lockout's Redis client, the database
// otherwise. nil when lockout.start_limit is 0.
func newStartLimiter(cfg *config.Config, st *store.Store, redisClient io.Closer) *lockout.StartLimiter {
	if cfg.Lockout.StartLimit <= 0 {
		return nil
	}
	set := lockout.StartSettings{Limit: cfg.Lockout.StartLimit, Window: cfg.Lockout.StartWindow}
	if rc, ok := redisClient.(redis.UniversalClient); ok && rc != nil {
		return lockout.NewStartLimiter(lockout.NewRedisCounter(rc, RedisKeyPrefix), set)
	}
	return lockout.NewStartLimiter(lockout.NewSQLCounter(st, time.Now), set)
}
