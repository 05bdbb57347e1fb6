package store

import (
	"context"
	"fmt"
	"time"
)

// writeGateTimeout matches SQLite's busy_timeout: a writer that cannot start
// within it fails rather than waiting for ever.
const writeGateTimeout = 10 * time.Second

// writeGate lets one SQLite write (a statement or a transaction) run at a
// time within this process. SQLite allows one writer anyway; without the gate
// concurrent writers collide on the database lock and SQLite's busy handler
// puts them to sleep for milliseconds at a time, which leaves the CPU idle
// under load. Waiting here instead hands the lock over as soon as it is free.
// Readers are not gated (WAL lets them run alongside the writer). A nil gate
// (PostgreSQL) lets everything through.
type writeGate struct{ ch chan struct{} }

func newWriteGate() *writeGate { return &writeGate{ch: make(chan struct{}, 1)} }

// acquire waits for the gate, ctx or the timeout, and returns the release.
func (g *writeGate) acquire(ctx context.Context) (func(), error) {
	if g == nil {
		return func() {}, nil
	}
	select {
	case g.ch <- struct{}{}:
		return g.release, nil
	default:
	}
	t := time.NewTimer(writeGateTimeout)
	defer t.Stop()
	select {
	case g.ch <- struct{}{}:
		return g.release, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("store: waiting to write: %w", ctx.Err())
	case <-t.C:
		return nil, fmt.Errorf("store: waiting to write: another write held the database for %s", writeGateTimeout)
	}
}

func (g *writeGate) release() { <-g.ch }
