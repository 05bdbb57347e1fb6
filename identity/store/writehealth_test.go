package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
	"github.com/frontdeskhq/frontdesk/invites"
)

// migrated prepares a migrated, closed database and returns its DSN.
func migrated(t *testing.T, engine store.Engine) string {
	t.Helper()
	_, dsn := storetest.DSN(t, engine)
	ctx := context.Background()
	s, err := store.Open(ctx, engine, dsn, store.Options{MaxOpenConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx, nil); err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	return dsn
}

func reopen(t *testing.T, engine store.Engine, dsn string) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), engine, dsn, store.Options{MaxOpenConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func bigMail(i int) store.OutboxMail {
	return store.OutboxMail{ID: fmt.Sprintf("fill%05d", i), PracticeID: "p", Kind: "invitation", RefID: "r",
		CreatedAt: t0, Message: invites.Message{To: "x@example.org", Subject: "s",
			Text: strings.Repeat(fmt.Sprintf("%08d", i), 512)}}
}

// TestWriteUnavailable is issue 21 point 3, one member per fault: a write
// the database refuses for want of space or writability is classified (for
// 503 + Retry-After), counted by cause, and makes Ping (/readyz) fail until
// a probe write succeeds again.
func TestWriteUnavailable(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		engine store.Engine
		// open returns a store whose writes fail, and a function that makes
		// them succeed again (nil when the fault outlives the store).
		open  func(t *testing.T) (*store.Store, func())
		cause string
	}{
		{"sqlite disk full", store.SQLite, func(t *testing.T) (*store.Store, func()) {
			path := migrated(t, store.SQLite)
			// A tiny max_page_count is a full disk SQLite reports exactly
			// as one (SQLITE_FULL).
			s := reopen(t, store.SQLite, path+"?_pragma=max_page_count(400)")
			for i := 0; ; i++ {
				if i > 10000 {
					t.Fatal("the database never filled up")
				}
				if err := s.EnqueueMail(ctx, bigMail(i)); err != nil {
					break
				}
			}
			return s, func() {
				// The operator frees space: another connection (no page
				// limit) deletes rows, and their pages become reusable.
				db, err := sql.Open("sqlite", "file:"+path)
				if err != nil {
					t.Fatal(err)
				}
				defer db.Close()
				if _, err := db.ExecContext(ctx, `DELETE FROM mail_outbox`); err != nil {
					t.Fatal(err)
				}
			}
		}, store.WriteFailDiskFull},
		{"sqlite read-only", store.SQLite, func(t *testing.T) (*store.Store, func()) {
			return reopen(t, store.SQLite, migrated(t, store.SQLite)+"?_pragma=query_only(1)"), nil
		}, store.WriteFailReadOnly},
		{"postgres read-only (standby)", store.Postgres, func(t *testing.T) (*store.Store, func()) {
			u, err := url.Parse(migrated(t, store.Postgres))
			if err != nil {
				t.Fatal(err)
			}
			q := u.Query()
			q.Set("default_transaction_read_only", "on")
			u.RawQuery = q.Encode()
			return reopen(t, store.Postgres, u.String()), nil
		}, store.WriteFailReadOnly},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, recover := tt.open(t)
			if err := s.EnqueueMail(ctx, bigMail(99999)); !store.IsWriteUnavailable(err) ||
				store.WriteFailCause(err) != tt.cause {
				t.Fatalf("write = %v (cause %q); want a write-unavailable error, cause %q", err,
					store.WriteFailCause(err), tt.cause)
			}
			if got := s.WriteFailures()[tt.cause]; got < 1 {
				t.Errorf("write failures[%s] = %d, want ≥ 1", tt.cause, got)
			}
			if failing, cause := s.WritesFailing(); !failing || cause != tt.cause {
				t.Errorf("WritesFailing = %v, %q", failing, cause)
			}
			if err := s.Ping(ctx); !errors.Is(err, store.ErrWritesFailing) {
				t.Fatalf("Ping while writes fail = %v, want ErrWritesFailing", err)
			}
			if err := s.Ping(ctx); !errors.Is(err, store.ErrWritesFailing) {
				t.Fatalf("Ping again (probe still failing) = %v, want ErrWritesFailing", err)
			}
			if recover == nil {
				return
			}
			recover()
			if err := s.Ping(ctx); err != nil {
				t.Fatalf("Ping once space was freed = %v", err)
			}
			if failing, _ := s.WritesFailing(); failing {
				t.Error("still failing after a successful probe")
			}
			if err := s.EnqueueMail(ctx, bigMail(99999)); err != nil {
				t.Errorf("write once space was freed: %v", err)
			}
		})
	}
}

// TestWriteFailCause covers the PostgreSQL codes no test can provoke on the
// shared server (a full disk, an I/O error) and errors of other classes.
func TestWriteFailCause(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{&pgconn.PgError{Code: "53100"}, store.WriteFailDiskFull},
		{&pgconn.PgError{Code: "25006"}, store.WriteFailReadOnly},
		{&pgconn.PgError{Code: "58030"}, store.WriteFailIO},
		{fmt.Errorf("store: x: %w", &pgconn.PgError{Code: "53100"}), store.WriteFailDiskFull},
		{&pgconn.PgError{Code: "23505"}, ""},
		{&pgconn.PgError{Code: "57P01"}, ""},
		{errors.New("boom"), ""},
		{nil, ""},
	}
	for _, tt := range tests {
		if got := store.WriteFailCause(tt.err); got != tt.want {
			t.Errorf("WriteFailCause(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
	if store.IsUnavailable(&pgconn.PgError{Code: "53100"}) {
		t.Error("a full disk is not a connection failure")
	}
}
