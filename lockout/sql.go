package lockout

import (
	"context"
	"time"
)

// CounterStore is the part of the database a SQLCounter uses;
// *store.Store implements it.
type CounterStore interface {
	IncrLockoutCounter(ctx context.Context, key string, now, expiresAt time.Time) (int64, error)
	PeekLockoutCounter(ctx context.Context, key string, now time.Time) (int64, time.Time, error)
	DeleteLockoutCounter(ctx context.Context, key string) error
	DecrLockoutCounter(ctx context.Context, key string) error
}

// SQLCounter keeps counters in the database: the embedded default, and shared
// by every replica on one PostgreSQL. Each increment is one atomic
// INSERT ... ON CONFLICT DO UPDATE ... RETURNING statement.
type SQLCounter struct {
	st  CounterStore
	now func() time.Time
}

// NewSQLCounter returns a counter over st; now is the clock windows are
// measured with.
func NewSQLCounter(st CounterStore, now func() time.Time) *SQLCounter {
	return &SQLCounter{st: st, now: now}
}

// Incr implements Counter.
func (c *SQLCounter) Incr(ctx context.Context, key string, window time.Duration) (int64, error) {
	now := c.now()
	var exp time.Time
	if window > 0 {
		exp = now.Add(window)
	}
	return c.st.IncrLockoutCounter(ctx, key, now, exp)
}

// Peek implements Counter.
func (c *SQLCounter) Peek(ctx context.Context, key string) (int64, time.Duration, error) {
	now := c.now()
	n, exp, err := c.st.PeekLockoutCounter(ctx, key, now)
	if err != nil || exp.IsZero() {
		return n, 0, err
	}
	return n, exp.Sub(now), nil
}

// Decr implements Counter.
func (c *SQLCounter) Decr(ctx context.Context, key string) error {
	return c.st.DecrLockoutCounter(ctx, key)
}

// Reset implements Counter.
func (c *SQLCounter) Reset(ctx context.Context, key string) error {
	return c.st.DeleteLockoutCounter(ctx, key)
}
