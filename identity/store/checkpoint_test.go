package store

import (
	"database/sql"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// walFrames reports the length of st's write-ahead log in pages (after a
// PASSIVE checkpoint, which changes nothing a reader or writer sees).
func walFrames(t *testing.T, st *Store) int64 {
	t.Helper()
	var busy, logFrames, done int64
	if err := st.db.QueryRowContext(t.Context(), `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &logFrames, &done); err != nil {
		t.Fatal(err)
	}
	return logFrames
}

// walStore opens a SQLite store whose checkpointer runs no rounds by itself
// (the test runs them) and whose clock for restartPatience is the returned
// one; it stands still unless the test (through pause) moves it.
func walStore(t *testing.T) (*Store, *stepClock) {
	t.Helper()
	ctx := t.Context()
	st, err := Open(ctx, SQLite, filepath.Join(t.TempDir(), "wal.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	st.checkpoints.close() // the test runs the rounds itself
	clock := &stepClock{now: time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)}
	st.checkpoints.now = clock.Now
	if _, err := st.exec(ctx, `CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)`); err != nil {
		t.Fatal(err)
	}
	return st, clock
}

// stepClock is a clock that moves only when told.
type stepClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *stepClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *stepClock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// write adds one row of about three pages to the log.
func write(t *testing.T, st *Store) {
	t.Helper()
	if _, err := st.exec(t.Context(), `INSERT INTO t (v) VALUES (randomblob(3000))`); err != nil {
		t.Fatal(err)
	}
}

// readers are read transactions held open, each on its own connection, in
// the order they began.
type readers struct {
	t     *testing.T
	st    *Store
	open  []*sql.Conn
	begun int
}

// begin opens a read transaction whose snapshot is the log as it is now.
// (The DSN makes database/sql transactions BEGIN IMMEDIATE, a writer's; a
// reader's transaction is a plain BEGIN on its own connection, and its
// snapshot is taken by its first read.)
func (r *readers) begin() {
	r.t.Helper()
	ctx := r.t.Context()
	conn, err := r.st.db.Conn(ctx)
	if err != nil {
		r.t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, `BEGIN`); err != nil {
		r.t.Fatal(err)
	}
	var n int
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT id FROM t ORDER BY id DESC LIMIT 1)`).Scan(&n); err != nil {
		r.t.Fatal(err)
	}
	r.open = append(r.open, conn)
	r.begun++
}

// endOldest ends the read transaction that began first.
func (r *readers) endOldest() {
	r.t.Helper()
	conn := r.open[0]
	r.open = r.open[1:]
	if _, err := conn.ExecContext(r.t.Context(), `ROLLBACK`); err != nil {
		r.t.Fatal(err)
	}
	if err := conn.Close(); err != nil {
		r.t.Fatal(err)
	}
}

// rotate lets a new reader in, then the oldest one leave: the readers
// overlap, so at no moment is none of them in the log.
func (r *readers) rotate() {
	r.t.Helper()
	r.begin()
	r.endOldest()
}

func (r *readers) endAll() {
	r.t.Helper()
	for len(r.open) > 0 {
		r.endOldest()
	}
}

// While readers never pause, SQLite cannot start its log again by itself and
// the log grows with every write; the checkpointer's RESTART round keeps it
// bounded, without failing a write or a read. The readers and the rounds are
// driven step by step, so the outcome does not depend on the machine's
// speed: between writes and between a round's attempts a new reader comes
// in before the oldest of two leaves, and the clock restartPatience is
// measured on stands still, so a round ends only by restarting the log (or,
// were readers to hold it off for good, by the test's own bound below).
func TestCheckpointBoundsTheLogUnderConstantReads(t *testing.T) {
	st, clock := walStore(t)
	rd := &readers{t: t, st: st}
	rd.begin()
	rd.begin()
	defer rd.endAll()
	var attempts int
	st.checkpoints.pause = func() {
		attempts++
		if attempts > 100 { // the readers would hold the round off for good: let it give up
			clock.Advance(time.Hour)
		}
		rd.rotate()
	}

	const restartAt, writes, every = 200, 1200, 50
	var most, rounds, restartsDue int64
	for i := range writes {
		write(t, st)
		if i%10 == 9 {
			rd.rotate() // the readers' snapshots lag the log's end
		}
		if i%every == every-1 {
			before := walFrames(t, st)
			attempts = 0
			st.checkpoints.round(restartAt)
			rounds++
			if before >= restartAt {
				restartsDue++
				if attempts > 8 {
					t.Errorf("round %d: the restart took %d attempts, want it done once the readers that were in left", rounds, attempts)
				}
			}
			most = max(most, walFrames(t, st))
		}
	}
	stats, ok := st.WALStats()
	t.Logf("the log reached at most %d pages; %+v; %d readers", most, stats, rd.begun)
	if !ok || stats.RestartsGivenUp != 0 || stats.Restarts != restartsDue || restartsDue == 0 {
		t.Errorf("WALStats = %+v, %v; want %d restarts and none given up", stats, ok, restartsDue)
	}
	// Each write adds about three pages; unbounded, the log reaches about
	// 3,600 here. Bounded, it holds at most restartAt plus what is written
	// between two rounds (about 150 pages).
	if most > restartAt+3*every+50 {
		t.Fatalf("the log reached %d pages (restart at %d, %d writes)", most, restartAt, writes)
	}
}

// A round that cannot start the log again within restartPatience, because a
// reader stays in it, gives up instead of holding every writer, and says so
// in WALStats; the next round, the reader gone, restarts it. restartPatience
// is measured on the checkpointer's clock, which here moves 10 ms at each
// attempt.
func TestCheckpointGivesUpOnAReaderThatStays(t *testing.T) {
	st, clock := walStore(t)
	const step = 10 * time.Millisecond
	var attempts int
	st.checkpoints.pause = func() { attempts++; clock.Advance(step) }
	// A reader whose snapshot predates the last writes stays open.
	rd := &readers{t: t, st: st}
	rd.begin()
	defer rd.endAll()
	for range 20 {
		write(t, st)
	}
	st.checkpoints.round(10)
	stats, _ := st.WALStats()
	if stats.RestartsGivenUp != 1 || stats.Restarts != 0 || stats.LogPages < 10 {
		t.Fatalf("with a reader in the log: %+v, want one round given up", stats)
	}
	// Bounded by restartPatience on the checkpointer's clock, far from the
	// 10 s busy timeout every writer would otherwise have queued behind.
	if want := int(restartPatience/step) + 1; attempts != want {
		t.Errorf("the round gave up after %d attempts %s apart, want %d", attempts, step, want)
	}
	rd.endOldest()
	st.checkpoints.round(10)
	if stats, _ := st.WALStats(); stats.Restarts != 1 {
		t.Fatalf("after the reader left: %+v, want the log restarted", stats)
	}
}
