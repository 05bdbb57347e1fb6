package store

import (
	"context"
	"database/sql"
	"sync"
	"time"
)

// checkpointInterval is how often the background checkpointer moves the
// SQLite write-ahead log into the database file.
const checkpointInterval = 250 * time.Millisecond

// walRestartFrames is the log length (pages) beyond which the checkpointer
// also restarts and truncates the log; about 16 MB.
const walRestartFrames = 4096

// checkpointer runs SQLite's WAL checkpoints in the background. By default
// SQLite checkpoints inside the commit that pushes the log past 1000 pages,
// and that commit waits for the copy and two fsyncs (about 20 ms here): with
// refresh grants committing hundreds of times a second, one commit in every
// few hundred stalled, and with it every grant queued behind the write (p95
// 19 ms, p99 23 ms at 8 concurrent refreshes). frontdesk's connections turn
// automatic checkpoints off (wal_autocheckpoint(0) in the DSN); this
// goroutine runs a PASSIVE checkpoint (which waits for no reader or writer)
// every checkpointInterval and, once the log is longer than
// walRestartFrames, a TRUNCATE checkpoint holding the write gate (writers
// queue in Go for that moment; readers are not held up), which keeps the log
// bounded even when readers never pause. Other processes on the same file
// (the CLI) do not checkpoint; SQLite checkpoints when the last connection
// closes.
type checkpointer struct {
	stop     chan struct{}
	stopOnce sync.Once
	done     sync.WaitGroup
}

func startCheckpointer(db *sql.DB, gate *writeGate) *checkpointer {
	c := &checkpointer{stop: make(chan struct{})}
	c.done.Go(func() {
		t := time.NewTicker(checkpointInterval)
		defer t.Stop()
		for {
			select {
			case <-c.stop:
				return
			case <-t.C:
				checkpoint(db, gate)
			}
		}
	})
	return c
}

// checkpoint runs one round; errors (a busy database) are retried at the
// next tick.
func checkpoint(db *sql.DB, gate *writeGate) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var busy, logFrames, done int64
	if err := db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &logFrames, &done); err != nil {
		return
	}
	if logFrames < walRestartFrames {
		return
	}
	release, err := gate.acquire(ctx)
	if err != nil {
		return
	}
	defer release()
	_, _ = db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
}

func (c *checkpointer) close() {
	if c == nil {
		return
	}
	c.stopOnce.Do(func() { close(c.stop) }) // Close may be called twice
	c.done.Wait()
}
