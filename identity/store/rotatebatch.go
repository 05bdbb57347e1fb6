package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// maxRotateBatch bounds how many refresh-token rotations share one SQLite
// transaction.
const maxRotateBatch = 32

// rotateBatcher coalesces concurrent refresh-token rotations into shared
// write transactions (group commit): rotations that arrive while a batch
// runs queue up and the next batch takes them all.
//
// SQLite runs one writer at a time anyway; under load each rotation paid its
// own BEGIN IMMEDIATE, COMMIT and write-ahead-log append, about a quarter of
// a refresh grant's CPU. There each rotation of a batch runs exactly as it
// would alone (rotateIn), in arrival order, inside its own savepoint: an
// error undoes only that rotation, and an outcome (replay detected and
// family revoked, or token no longer usable) is committed as before. A
// failed commit fails every rotation of the batch; none of them then took
// effect, so the caller may retry.
//
// On PostgreSQL each rotation was one statement and one commit, whose WAL
// flush and round trip were most of the database's CPU per refresh grant. A
// batch is one statement there (rotateMany), one round trip and one commit
// for all its rotations. Each rotation it did not carry out (its token was
// no longer usable, or its used token came twice in the batch), and every
// rotation of a batch whose statement the server refused, is then run alone
// (rotateAlone) by its caller, which finds out why exactly as before: a
// replay revokes the family, anything else fails that rotation only. A
// batch whose outcome is unknown (the connection failed, the time ran out)
// fails each of its rotations with that error, as a single statement would
// have failed.
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

// errRotateAlone tells a batched rotation's caller to run it alone.
var errRotateAlone = errors.New("store: rotate alone")

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
	if err := <-r.done; !errors.Is(err, errRotateAlone) {
		return err
	}
	return s.rotateAlone(ctx, usedID, next, nextHash, now)
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
	if s.d.oneStatementRotate {
		s.runRotationsOneStatement(ctx, live)
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

// runRotationsOneStatement runs batch as one statement (PostgreSQL) and
// answers each request; those it did not rotate are sent back to be run
// alone.
func (s *Store) runRotationsOneStatement(ctx context.Context, batch []*rotateReq) {
	// A token used twice in one statement would be marked used once but
	// both successors stored: the second use runs alone, after this one,
	// and is a replay.
	seen := make(map[string]bool, len(batch))
	first := batch[:0:0]
	for _, r := range batch {
		if seen[r.usedID] {
			r.done <- errRotateAlone
			continue
		}
		seen[r.usedID] = true
		first = append(first, r)
	}
	// The batch outlives any one caller's request: bound it as a SQLite
	// write is bounded by the write gate.
	ctx, cancel := context.WithTimeout(ctx, writeGateTimeout)
	defer cancel()
	done, err := s.rotateMany(ctx, first)
	var pgErr *pgconn.PgError
	for i, r := range first {
		switch {
		case err == nil && done[i]:
			r.done <- nil
		case err == nil || errors.As(err, &pgErr):
			// Not rotated, or the server refused the whole statement (a
			// successor's hash taken, a member row gone): nothing of it
			// was committed, so each runs alone and finds out why.
			r.done <- errRotateAlone
		default:
			// The statement may or may not have committed (the connection
			// failed or the time ran out): fail each rotation, as a single
			// one would have failed, rather than run it again and mistake
			// its own rotation for a replay.
			r.done <- err
		}
	}
}
