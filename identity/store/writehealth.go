package store

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
)

// ErrWritesFailing is what Ping reports while the database answers but cannot
// save (see IsWriteUnavailable): /readyz turns not ready so a load balancer
// stops sending traffic that would fail.
var ErrWritesFailing = errors.New("store: the database cannot save changes")

// writeHealth tracks whether writes are failing for a write-unavailable
// cause. A failed write marks it failing; only a successful probe write
// (Ping runs one while failing) marks it healthy again, so readiness does not
// flap on writes that happen to need no new space.
type writeHealth struct {
	failing  atomic.Bool
	failures [3]atomic.Int64 // by WriteFailCauses index
	probe    sync.Mutex      // one probe at a time
	mu       sync.Mutex
	cause    string // the last failure's cause
}

// observe records err if it is a write-unavailable error.
func (h *writeHealth) observe(err error) {
	cause := WriteFailCause(err)
	if h == nil || cause == "" {
		return
	}
	for i, c := range WriteFailCauses() {
		if c == cause {
			h.failures[i].Add(1)
		}
	}
	h.mu.Lock()
	h.cause = cause
	h.mu.Unlock()
	h.failing.Store(true)
}

// WriteFailures reports how many writes failed for each cause in
// WriteFailCauses since the store was opened (the write-failure metric).
func (s *Store) WriteFailures() map[string]int64 {
	out := map[string]int64{}
	for i, c := range WriteFailCauses() {
		out[c] = s.health.failures[i].Load()
	}
	return out
}

// WritesFailing reports whether the last write failed for a write-unavailable
// cause (and no probe has succeeded since), and that cause.
func (s *Store) WritesFailing() (bool, string) {
	if !s.health.failing.Load() {
		return false, ""
	}
	s.health.mu.Lock()
	defer s.health.mu.Unlock()
	return true, s.health.cause
}

// probeSize is the probe row's payload: large enough to need new pages (a
// full SQLite database or disk refuses it) yet cheap.
const probeSize = 16 << 10

// ProbeWrite writes and deletes a row of random bytes in one committed
// transaction, marking writes healthy when it succeeds and failing when it
// fails for a write-unavailable cause.
func (s *Store) ProbeWrite(ctx context.Context) error {
	s.health.probe.Lock()
	defer s.health.probe.Unlock()
	payload := make([]byte, probeSize)
	_, _ = rand.Read(payload)
	err := s.InTx(ctx, func(tx *Store) error {
		if _, err := tx.exec(ctx, `INSERT INTO write_probe (id, payload) VALUES (1, $1)`, payload); err != nil {
			return err
		}
		_, err := tx.exec(ctx, `DELETE FROM write_probe WHERE id = 1`)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: probe write: %w", err)
	}
	s.health.failing.Store(false)
	return nil
}
