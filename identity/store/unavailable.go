package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// IsUnavailable reports whether err means the database could not be reached
// or is not accepting work right now (connection refused or lost, server
// shutting down or starting, SQLite busy past its timeout), as opposed to a
// bug or a bad request. Callers answer such errors with 503 and
// Retry-After: nothing was changed and the same request may succeed later.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var connErr *pgconn.ConnectError
	if errors.As(err, &connErr) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// Class 08: connection exception; 57P01-57P03: admin or crash
		// shutdown, cannot connect now.
		return strings.HasPrefix(pgErr.Code, "08") ||
			pgErr.Code == "57P01" || pgErr.Code == "57P02" || pgErr.Code == "57P03"
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return true
	}
	return isBusy(err)
}

// Causes of write failures, as IsWriteUnavailable classifies them and the
// write-failure metric labels them.
const (
	WriteFailDiskFull = "disk_full"
	WriteFailReadOnly = "read_only"
	WriteFailIO       = "io_error"
)

// WriteFailCauses lists every cause WriteFailCause can report.
func WriteFailCauses() []string { return []string{WriteFailDiskFull, WriteFailReadOnly, WriteFailIO} }

// IsWriteUnavailable reports whether err means the database cannot save
// anything right now: the disk is full, the database is read-only (a
// read-only file system or file, a PostgreSQL standby), or the storage
// failed. Nothing was changed (the transaction was rolled back), and the
// same request succeeds once the operator frees space or makes the database
// writable again: callers answer 503 with Retry-After, like IsUnavailable.
func IsWriteUnavailable(err error) bool { return WriteFailCause(err) != "" }

// WriteFailCause names the cause of a write-unavailable error (one of
// WriteFailCauses), or "" when err is not one.
func WriteFailCause(err error) string {
	if err == nil {
		return ""
	}
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) {
		switch liteErr.Code() & 0xff { // primary result code
		case sqlite3.SQLITE_FULL:
			return WriteFailDiskFull
		case sqlite3.SQLITE_READONLY:
			return WriteFailReadOnly
		case sqlite3.SQLITE_IOERR:
			return WriteFailIO
		}
		return ""
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case pgErr.Code == "53100": // disk_full
			return WriteFailDiskFull
		case pgErr.Code == "25006": // read_only_sql_transaction (a standby, or default_transaction_read_only)
			return WriteFailReadOnly
		case strings.HasPrefix(pgErr.Code, "58"): // system_error, io_error
			return WriteFailIO
		}
	}
	return ""
}
