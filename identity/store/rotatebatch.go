package store

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// maxRotateBatch bounds how many refresh-token rotations share one SQLite
// transaction.
const maxRotateBatch = 32

// rotateBatcher coalesces concurrent refresh-token rotations on SQLite into
// shared write transactions (group commit). SQLite runs one writer at a time
// anyway; under load each rotation paid its own BEGIN IMMEDIATE, COMMIT and
// write-ahead-log append, about a quarter of a refresh grant's CPU. Rotations
// that arrive while a transaction runs queue up and the next transaction
// takes them all. Each runs exactly as it would alone (rotateIn), in arrival
// order, inside its own savepoint: an error undoes only that rotation, and an
// outcome (replay detected and family revoked, or token no longer usable) is
// committed as before. A failed commit fails every rotation of the batch;
// none of them then took effect, so the caller may retry.
type rotateBatcher struct {
	mu      sync.Mutex
	queue   []*rotateReq
	leading bool // a goroutine is draining the queue
}

type rotateReq struct {
	usedID   string
	next     RefreshToken
	nextHash []byte
	now      time.Time
	ctx      context.Context
	done     chan error // buffered; receives the rotation's result once
	outcome  error
}

// rotateBatched queues one rotation and waits for its result.
func (s *Store) rotateBatched(ctx context.Context, usedID string, next RefreshToken, nextHash []byte, now time.Time) error {
	r := &rotateReq{usedID: usedID, next: next, nextHash: nextHash, now: now, ctx: ctx, done: make(chan error, 1)}
	b := s.rotations
	b.mu.Lock()
	b.queue = append(b.queue, r)
	if !b.leading {
		b.leading = true
		go s.drainRotations()
	}
	b.mu.Unlock()
	return <-r.done
}

// drainRotations runs queued rotations, a batch per transaction, until the
// queue is empty.
func (s *Store) drainRotations() {
	b := s.rotations
	for {
		b.mu.Lock()
		if len(b.queue) == 0 {
			b.leading = false
			b.mu.Unlock()
			return
		}
		n := min(len(b.queue), maxRotateBatch)
		batch := b.queue[:n:n]
		b.queue = b.queue[n:]
		b.mu.Unlock()
		s.runRotations(batch)
	}
}

// runRotations runs batch in one transaction and answers each request.
func (s *Store) runRotations(batch []*rotateReq) {
	// The batch outlives any one caller's request; the write gate's timeout
	// bounds it.
	ctx := context.WithoutCancel(batch[0].ctx)
	live := batch[:0:0]
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.done <- fmt.Errorf("store: rotate refresh token: %w", err)
			continue
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return
	}
	err := s.InTx(ctx, func(tx *Store) error {
		for _, r := range live {
			if _, err := tx.exec(ctx, `SAVEPOINT rotation`); err != nil {
				return fmt.Errorf("store: savepoint: %w", err)
			}
			outcome, err := tx.rotateIn(ctx, r.usedID, r.next, r.nextHash, r.now)
			if err != nil {
				if _, rerr := tx.exec(ctx, `ROLLBACK TO rotation`); rerr != nil {
					return fmt.Errorf("store: roll back to savepoint: %w (after %w)", rerr, err)
				}
				outcome = err
			}
			if _, err := tx.exec(ctx, `RELEASE rotation`); err != nil {
				return fmt.Errorf("store: release savepoint: %w", err)
			}
			r.outcome = outcome
		}
		return nil
	})
	for _, r := range live {
		if err != nil {
			r.done <- err
		} else {
			r.done <- r.outcome
		}
	}
}
