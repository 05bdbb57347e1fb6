package store

import (
	"context"
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

// While readers never pause, SQLite cannot start its log again by itself and
// the log grows with every write; the checkpointer's RESTART round keeps it
// bounded, without failing a write or a read.
func TestCheckpointBoundsTheLogUnderConstantReads(t *testing.T) {
	ctx := t.Context()
	st, err := Open(ctx, SQLite, filepath.Join(t.TempDir(), "wal.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	st.checkpoints.close() // this test runs the rounds itself
	if _, err := st.exec(ctx, `CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)`); err != nil {
		t.Fatal(err)
	}

	// Two readers whose transactions overlap, so one is always open. (The
	// DSN makes database/sql transactions BEGIN IMMEDIATE, a writer's; a
	// reader's transaction is a plain BEGIN on its own connection.)
	stop := make(chan struct{})
	var readers sync.WaitGroup
	readErrs := make(chan error, 2)
	for range 2 {
		readers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				err := read(ctx, st.db)
				if err != nil {
					readErrs <- err
					return
				}
			}
		})
	}
	defer func() {
		close(stop)
		readers.Wait()
		close(readErrs)
		for err := range readErrs {
			t.Errorf("reader: %v", err)
		}
	}()

	const restartAt, writes = 200, 3000
	var most int64
	for i := range writes {
		if _, err := st.exec(ctx, `INSERT INTO t (v) VALUES (randomblob(3000))`); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
		if i%50 == 49 {
			st.checkpoints.round(restartAt)
			most = max(most, walFrames(t, st))
		}
	}
	// Each write adds about three pages; unbounded, the log reaches about
	// 8,000 here. Bounded, it holds restartAt plus what is written between
	// rounds (150 pages), more when a round gives up on readers that keep
	// arriving (restartBusyTimeout) and the next one has to do.
	t.Logf("the log reached at most %d pages", most)
	if stats, ok := st.WALStats(); !ok || stats.Restarts == 0 {
		t.Errorf("WALStats = %+v, %v; want restarts counted", stats, ok)
	}
	if most > 1000 {
		t.Fatalf("the log reached %d pages (restart at %d, %d writes)", most, restartAt, writes)
	}
}

// read holds a read transaction on its own connection for a millisecond.
func read(ctx context.Context, db *sql.DB) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `BEGIN`); err != nil {
		return err
	}
	var n int
	err = conn.QueryRowContext(ctx, `SELECT count(*) FROM t`).Scan(&n)
	time.Sleep(time.Millisecond)
	if _, rerr := conn.ExecContext(ctx, `ROLLBACK`); err == nil {
		err = rerr
	}
	return err
}

// A round that cannot start the log again within restartPatience, because a
// reader stays in it, gives up instead of holding every writer, and says so
// in WALStats; the next round, the reader gone, restarts it.
func TestCheckpointGivesUpOnAReaderThatStays(t *testing.T) {
	ctx := t.Context()
	st, err := Open(ctx, SQLite, filepath.Join(t.TempDir(), "wal.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	st.checkpoints.close()
	if _, err := st.exec(ctx, `CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)`); err != nil {
		t.Fatal(err)
	}
	// A reader whose snapshot predates the last writes stays open.
	reader, err := st.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	if _, err := reader.ExecContext(ctx, `BEGIN`); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := reader.QueryRowContext(ctx, `SELECT count(*) FROM t`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	for range 20 {
		if _, err := st.exec(ctx, `INSERT INTO t (v) VALUES (randomblob(3000))`); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	st.checkpoints.round(10)
	held := time.Since(start)
	stats, _ := st.WALStats()
	if stats.RestartsGivenUp != 1 || stats.Restarts != 0 || stats.LogPages < 10 {
		t.Fatalf("with a reader in the log: %+v, want one round given up", stats)
	}
	// Bounded: restartPatience plus the copy, far from the 10 s busy
	// timeout every writer would otherwise have queued behind.
	if held > 5*time.Second {
		t.Errorf("the round held the write gate %s", held)
	}
	if _, err := reader.ExecContext(ctx, `ROLLBACK`); err != nil {
		t.Fatal(err)
	}
	st.checkpoints.round(10)
	if stats, _ := st.WALStats(); stats.Restarts != 1 {
		t.Fatalf("after the reader left: %+v, want the log restarted", stats)
	}
}
