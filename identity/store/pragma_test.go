package store

import (
	"path/filepath"
	"testing"
)

// TestSQLitePragmasOnEveryConnection: the pragmas of sqliteDSN hold on every
// connection of the pool, not only the first: WAL, foreign keys, the busy
// timeout and no automatic checkpoints.
func TestSQLitePragmasOnEveryConnection(t *testing.T) {
	ctx := t.Context()
	st, err := Open(ctx, SQLite, filepath.Join(t.TempDir(), "pragmas.db"), Options{MaxOpenConns: 3})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	for i := range 3 {
		// Holding each connection makes the next query open another.
		conn, err := st.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		for _, tc := range []struct {
			pragma string
			want   string
		}{
			{"journal_mode", "wal"},
			{"foreign_keys", "1"},
			{"busy_timeout", "10000"},
			{"wal_autocheckpoint", "0"},
		} {
			var got string
			if err := conn.QueryRowContext(ctx, "PRAGMA "+tc.pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("connection %d: PRAGMA %s = %s, want %s", i, tc.pragma, got, tc.want)
			}
		}
	}
}
