package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// checkpointInterval is how often the background checkpointer moves the
// SQLite write-ahead log into the database file.
const checkpointInterval = 250 * time.Millisecond

// walRestartFrames is the log length (pages) beyond which the checkpointer
// also makes the log start again from its beginning; about 64 MB.
const walRestartFrames = 16384

// walSizeLimit is SQLite's journal_size_limit: when the log starts again,
// a file longer than this is cut back to it. Above walRestartFrames plus
// what a quarter second of heavy writing adds, so that the file is reused
// rather than cut and grown again at every restart.
const walSizeLimit = 128 << 20

// checkpointer runs SQLite's WAL checkpoints in the background. By default
// SQLite checkpoints inside the commit that pushes the log past 1000 pages,
// and that commit waits for the copy and two fsyncs (about 20 ms here): with
// refresh grants committing hundreds of times a second, one commit in every
// few hundred stalled, and with it every grant queued behind the write (p95
// 19 ms, p99 23 ms at 8 concurrent refreshes). frontdesk's connections turn
// automatic checkpoints off (wal_autocheckpoint(0) in the DSN); this
// goroutine runs a PASSIVE checkpoint (which waits for no reader or writer)
// every checkpointInterval.
//
// A log that has been copied into the database is started again from its
// beginning by the next writer, but only when no reader is still using it;
// under sustained load some reader always is, and the log would grow
// without end. So once it is longer than walRestartFrames the checkpointer
// also runs a RESTART checkpoint holding the write gate (writers queue in
// Go; readers are not held up), which copies the last pages, waits for the
// readers to leave the log and lets the next writer start it again. That
// costs the queued writers about 20 ms here (fsyncs of the last pages), so
// it is kept rare: at 4096 pages it ran at nearly every tick under load and
// was the refresh grant's p99 (12–17 ms); at 16384 pages about once a
// second at 4,000 grants/s. RESTART rather than TRUNCATE: cutting the file
// to nothing and growing it again doubled the stall; walSizeLimit bounds
// the file instead. Other processes on the same file (the CLI) do not
// checkpoint; SQLite checkpoints when the last connection closes.
type checkpointer struct {
	db       *sql.DB
	gate     *writeGate
	stop     chan struct{}
	stopOnce sync.Once
	done     sync.WaitGroup

	// For WALStats: the log's length at the last round, and the RESTART
	// rounds that completed and that gave up.
	logPages, restarts, gaveUp atomic.Int64

	// now is the clock restartPatience is measured on and pause the wait
	// between RESTART attempts: time.Now and a 200 µs sleep; tests step
	// them to drive a round attempt by attempt.
	now   func() time.Time
	pause func()
}

// WALStats describes the SQLite write-ahead log and its checkpointer, for
// the operator's metrics.
type WALStats struct {
	// LogPages is the log's length in pages (4 KiB) at the last round.
	LogPages int64
	// Restarts counts the rounds that started the log again; RestartsGivenUp
	// those that gave up on readers that kept arriving (restartPatience).
	// Only the latter growing, with LogPages, means the log is not being
	// bounded.
	Restarts, RestartsGivenUp int64
}

// WALStats reports the write-ahead log's state; false on PostgreSQL.
func (s *Store) WALStats() (WALStats, bool) {
	c := s.checkpoints
	if c == nil {
		return WALStats{}, false
	}
	return WALStats{LogPages: c.logPages.Load(), Restarts: c.restarts.Load(), RestartsGivenUp: c.gaveUp.Load()}, true
}

func startCheckpointer(db *sql.DB, gate *writeGate) *checkpointer {
	c := newCheckpointer(db, gate)
	c.done.Go(func() {
		t := time.NewTicker(checkpointInterval)
		defer t.Stop()
		for {
			select {
			case <-c.stop:
				return
			case <-t.C:
				c.round(walRestartFrames)
			}
		}
	})
	return c
}

// newCheckpointer returns a checkpointer that runs no rounds by itself.
func newCheckpointer(db *sql.DB, gate *writeGate) *checkpointer {
	return &checkpointer{db: db, gate: gate, stop: make(chan struct{}), now: time.Now,
		pause: func() { time.Sleep(200 * time.Microsecond) }}
}

// round runs one checkpoint, restarting the log if it is longer than
// restartFrames pages; errors (a busy database) are retried at the next tick.
func (c *checkpointer) round(restartFrames int64) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var busy, logFrames, done int64
	if err := c.db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &logFrames, &done); err != nil {
		return
	}
	c.logPages.Store(logFrames)
	if logFrames < restartFrames {
		return
	}
	release, err := c.gate.acquire(ctx)
	if err != nil {
		return
	}
	defer release()
	if c.restartLog(ctx) {
		c.restarts.Add(1)
	} else {
		c.gaveUp.Add(1)
	}
}

// restartPatience bounds how long a RESTART checkpoint keeps trying while it
// holds the write gate. Readers that keep arriving can hold it off (SQLite
// hands them read marks that the checkpoint must wait out); with the
// connections' ordinary busy_timeout every writer would then queue for up to
// 10 s. Giving up is harmless: the next tick tries again, and meanwhile the
// log grows a little.
const restartPatience = 100 * time.Millisecond

// restartLog runs RESTART checkpoints on a connection of its own, with its
// busy timeout off for the moment, until one completes or restartPatience
// has passed, and reports whether one completed. Short retries of its own
// find the gaps between readers that SQLite's busy handler, sleeping 1, 2,
// 5, 10 ms and longer, misses.
func (c *checkpointer) restartLog(ctx context.Context) bool {
	conn, err := c.db.Conn(ctx)
	if err != nil {
		return false
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `PRAGMA busy_timeout = 0`); err != nil {
		return false
	}
	defer func() {
		if _, err := conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA busy_timeout = `+strconv.Itoa(sqliteBusyTimeout)); err != nil {
			// Never hand a connection without a busy timeout back to the pool.
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	deadline := c.now().Add(restartPatience)
	for {
		var busy, logFrames, done int64
		err := conn.QueryRowContext(ctx, `PRAGMA wal_checkpoint(RESTART)`).Scan(&busy, &logFrames, &done)
		if err == nil && busy == 0 {
			return true
		}
		if c.now().After(deadline) {
			return false
		}
		c.pause()
	}
}

func (c *checkpointer) close() {
	if c == nil {
		return
	}
	c.stopOnce.Do(func() { close(c.stop) }) // Close may be called twice
	c.done.Wait()
}
