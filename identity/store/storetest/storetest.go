// Package storetest gives tests a real, empty, migrated store on each engine:
// a temporary SQLite file, and a fresh schema in the machine's PostgreSQL.
//
// PostgreSQL is found at $FRONTDESK_TEST_POSTGRES_URL (default
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable). When it cannot be
// reached the PostgreSQL half of a test is skipped — except under CI=true, where
// a missing database fails the run.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/store"
)

// DefaultPostgresURL is used when FRONTDESK_TEST_POSTGRES_URL is not set.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// PostgresURL reports the base URL of the test PostgreSQL server.
func PostgresURL() string {
	if u := os.Getenv("FRONTDESK_TEST_POSTGRES_URL"); u != "" {
		return u
	}
	return DefaultPostgresURL
}

// Engines lists the engines every storage-backed test runs against.
func Engines() []store.Engine { return []store.Engine{store.SQLite, store.Postgres} }

// ForEachEngine runs fn as a subtest once per engine with a fresh store.
func ForEachEngine(t *testing.T, fn func(t *testing.T, s *store.Store)) {
	t.Helper()
	for _, e := range Engines() {
		t.Run(string(e), func(t *testing.T) {
			fn(t, Open(t, e))
		})
	}
}

// Open returns a fresh, migrated store on engine, removed when the test ends.
func Open(t testing.TB, engine store.Engine) *store.Store {
	t.Helper()
	_, dsn := DSN(t, engine)
	ctx := context.Background()
	s, err := store.Open(ctx, engine, dsn, store.Options{MaxOpenConns: 8})
	if err != nil {
		t.Fatalf("storetest: open %s: %v", engine, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := s.Migrate(ctx, nil); err != nil {
		t.Fatalf("storetest: migrate %s: %v", engine, err)
	}
	return s
}

// DSN prepares an empty database for engine and returns the engine and its DSN
// (a file path for SQLite; a URL whose search_path names a fresh schema for
// PostgreSQL). Everything is removed when the test ends.
func DSN(t testing.TB, engine store.Engine) (store.Engine, string) {
	t.Helper()
	switch engine {
	case store.SQLite:
		return engine, filepath.Join(t.TempDir(), "frontdesk.db")
	case store.Postgres:
		return engine, postgresSchema(t)
	}
	t.Fatalf("storetest: unknown engine %q", engine)
	return "", ""
}

// RequirePostgres skips the test when PostgreSQL is unreachable, or fails it
// under CI=true.
func RequirePostgres(t testing.TB) {
	t.Helper()
	db, err := sql.Open("pgx", PostgresURL())
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		err = db.PingContext(ctx)
		cancel()
		_ = db.Close()
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("storetest: PostgreSQL at %s is required under CI=true: %v", PostgresURL(), err)
		}
		t.Skipf("storetest: PostgreSQL unreachable (%v); set CI=true to make this a failure", err)
	}
}

func postgresSchema(t testing.TB) string {
	t.Helper()
	RequirePostgres(t)
	base := PostgresURL()
	db, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("storetest: %v", err)
	}
	defer db.Close()
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "fdtest_" + hex.EncodeToString(b[:])
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("storetest: create schema: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer db.Close()
		_, _ = db.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("storetest: bad FRONTDESK_TEST_POSTGRES_URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
