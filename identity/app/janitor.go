package app

import (
	"context"
	"math/rand/v2"
	"time"
)

// idempotencyKeyLifetime is how long an Idempotency-Key is remembered: long
// enough for any client's retries, short enough that the table stays small.
const idempotencyKeyLifetime = 24 * time.Hour

// janitorInterval is the average pause between two clean-up passes; each
// replica adds jitter so that replicas do not all purge at the same moment.
const janitorInterval = 10 * time.Minute

// PurgeExpired deletes rows nothing can use any more: expired OpenID auth
// requests, codes, refresh tokens and revocation entries, expired lockout
// counters and idempotency keys past their lifetime. It never touches audit
// events, members or credentials. Each step runs even if an earlier one
// failed; the first error is returned.
func (a *App) PurgeExpired(ctx context.Context, now time.Time) (removed int64, err error) {
	steps := []struct {
		name string
		run  func() (int64, error)
	}{
		{"oidc", func() (int64, error) { return a.Store.PurgeOIDC(ctx, now) }},
		{"lockout_counters", func() (int64, error) { return a.Store.PurgeLockoutCounters(ctx, now) }},
		{"idempotency_keys", func() (int64, error) {
			return a.Store.PurgeIdempotencyKeys(ctx, now.Add(-idempotencyKeyLifetime))
		}},
	}
	for _, s := range steps {
		n, stepErr := s.run()
		removed += n
		if stepErr != nil {
			a.Logger.WarnContext(ctx, "purge of expired rows failed", "table", s.name, "err", stepErr)
			if err == nil {
				err = stepErr
			}
			continue
		}
		if n > 0 {
			a.Logger.DebugContext(ctx, "purged expired rows", "table", s.name, "rows", n)
		}
	}
	return removed, err
}

// RunJanitor calls PurgeExpired about every ten minutes until ctx ends;
// `serve` runs it in every replica (the deletes are idempotent).
func (a *App) RunJanitor(ctx context.Context) {
	for {
		wait := janitorInterval/2 + rand.N(janitorInterval)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		_, _ = a.PurgeExpired(ctx, time.Now())
	}
}
