// Package store keeps frontdesk's durable state — practices, members, single-use
// links, browser sessions and the audit trail — in SQLite (the embedded default)
// or PostgreSQL (scale-out). Both engines run the same queries through one
// implementation; the contract test suite in this package runs against both.
//
// Timestamps are stored as Unix microseconds in UTC so comparisons are exact and
// identical on both engines. Secrets are never stored in the clear: link and
// session tokens are kept only as SHA-256 hashes, passwords only as argon2id
// hashes.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"github.com/pressly/goose/v3"
	"modernc.org/sqlite" // registers the "sqlite" database/sql driver
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFS embed.FS

// Engine names the database engine behind a Store.
type Engine string

// The supported engines.
const (
	SQLite   Engine = "sqlite"
	Postgres Engine = "postgres"
)

// Errors returned by Store methods; test for them with errors.Is.
var (
	// ErrNotFound means the requested row does not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict means a uniqueness rule (practice slug, member email) was violated.
	ErrConflict = errors.New("store: already exists")
	// ErrLinkUnusable means a single-use link was already consumed, or has expired.
	ErrLinkUnusable = errors.New("store: link already used or expired")
)

// querier is what both *sql.DB and *sql.Tx offer.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Store is the storage for one database. It is safe for concurrent use. A Store
// returned inside InTx is bound to that transaction and must not outlive it.
type Store struct {
	db      *sql.DB
	q       querier
	engine  Engine
	d       dialect
	inTx    bool
	maxIdle int // idle connections kept (CloseIdleConns restores it)
	// writer serialises this process's SQLite writes (nil on PostgreSQL);
	// see writeGate.
	writer *writeGate
	// stmts keeps SQLite statements prepared (nil on PostgreSQL).
	stmts *stmtCache
	// rotations batches SQLite refresh-token rotations (nil on PostgreSQL);
	// see rotateBatcher.
	rotations *rotateBatcher
	// checkpoints runs SQLite's WAL checkpoints off the request path (nil on
	// PostgreSQL); see checkpointer.
	checkpoints *checkpointer
	// health tracks writes failing for want of space or writability; see
	// writeHealth.
	health *writeHealth
}

// Options tune the connection pool.
type Options struct {
	// MaxOpenConns bounds connections to the database (PostgreSQL); SQLite uses it
	// for readers, writers are serialised by SQLite itself.
	MaxOpenConns int
}

// Open connects to the database named by engine and dsn (a file path for SQLite,
// a postgres:// URL for PostgreSQL) and checks that it answers. It does not migrate.
func Open(ctx context.Context, engine Engine, dsn string, opts Options) (*Store, error) {
	d, ok := dialectOf(engine)
	if !ok {
		return nil, fmt.Errorf("store: unknown engine %q", engine)
	}
	db, err := sql.Open(d.driver, d.dsn(dsn))
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", engine, err)
	}
	maxIdle := 2 // database/sql's default
	if opts.MaxOpenConns > 0 {
		db.SetMaxOpenConns(opts.MaxOpenConns)
		db.SetMaxIdleConns(opts.MaxOpenConns)
		maxIdle = opts.MaxOpenConns
	}
	db.SetConnMaxIdleTime(5 * time.Minute)
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := ping(pingCtx, db); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("store: connect to %s: %w", engine, err)
	}
	st := &Store{db: db, q: db, engine: engine, d: d, maxIdle: maxIdle, health: &writeHealth{}}
	if d.oneWriter {
		st.writer = newWriteGate()
		st.stmts = newStmtCache(db)
		st.rotations = &rotateBatcher{}
		st.checkpoints = startCheckpointer(db, st.writer)
	}
	return st, nil
}

// ping checks that db answers. Processes that open a new SQLite file at the
// same moment race to switch it to WAL; SQLite answers the loser with
// SQLITE_BUSY without consulting busy_timeout (waiting could deadlock), so a
// busy answer is retried with a short back-off until ctx ends.
func ping(ctx context.Context, db *sql.DB) error {
	delay := 5 * time.Millisecond
	for {
		err := db.PingContext(ctx)
		if err == nil || !isBusy(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(delay):
		}
		delay = min(2*delay, 200*time.Millisecond)
	}
}

// isBusy recognises SQLite's "database is locked" answers.
func isBusy(err error) bool {
	var liteErr *sqlite.Error
	if !errors.As(err, &liteErr) {
		return false
	}
	code := liteErr.Code() & 0xff // primary result code
	return code == sqlite3.SQLITE_BUSY || code == sqlite3.SQLITE_LOCKED
}

// sqliteBusyTimeout is how long (milliseconds) a SQLite connection waits for
// a lock before answering SQLITE_BUSY; writeGateTimeout matches it.
const sqliteBusyTimeout = 10000

// sqliteDSN turns a file path into a modernc DSN with the pragmas frontdesk relies
// on: WAL for concurrent readers, foreign keys on, a busy timeout so writers wait
// instead of failing, immediate transactions so a read-then-write transaction
// never deadlocks on lock upgrade, and the log's checkpointing left to the
// checkpointer (checkpoint.go) with walSizeLimit as its file's size limit.
func sqliteDSN(path string) string {
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	return "file:" + path + sep +
		// busy_timeout first: it must already apply when journal_mode(WAL)
		// runs, or processes opening a new file together see SQLITE_BUSY.
		"_pragma=busy_timeout(" + strconv.Itoa(sqliteBusyTimeout) + ")&_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)" +
		"&_pragma=synchronous(NORMAL)&_pragma=wal_autocheckpoint(0)" +
		"&_pragma=journal_size_limit(" + strconv.Itoa(walSizeLimit) + ")&_txlock=immediate"
}

// CloseIdleConns closes the connections not in use now; new ones are opened
// when needed. serve calls it when traffic stops: each SQLite connection
// keeps a page cache of up to 2 MB outside the Go heap.
func (s *Store) CloseIdleConns() {
	s.db.SetMaxIdleConns(0) // closes every idle connection
	s.db.SetMaxIdleConns(s.maxIdle)
}

// Engine reports which database engine the store uses.
func (s *Store) Engine() Engine { return s.engine }

// Close closes the connection pool.
func (s *Store) Close() error {
	s.checkpoints.close()
	s.stmts.close()
	return s.db.Close()
}

// Ping checks that the database answers and, while writes have been failing
// for want of space or writability, that a probe write succeeds; /readyz
// uses it. The probe's failure wraps ErrWritesFailing.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	if failing, _ := s.WritesFailing(); failing {
		if err := s.ProbeWrite(ctx); err != nil {
			return fmt.Errorf("%w: %w", ErrWritesFailing, err)
		}
	}
	return nil
}

// Migrate applies every pending schema migration embedded in the binary. On
// PostgreSQL it holds an advisory lock while doing so, so several replicas
// starting at once apply each migration exactly once.
func (s *Store) Migrate(ctx context.Context, logger *slog.Logger) error {
	sub, err := fs.Sub(migrationFS, "migrations/"+string(s.engine))
	if err != nil {
		return fmt.Errorf("store: migrations: %w", err)
	}
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	if s.d.migrationLock != nil {
		locker, err := s.d.migrationLock()
		if err != nil {
			return fmt.Errorf("store: migration lock: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(s.d.goose, s.db, sub, opts...)
	if err != nil {
		return fmt.Errorf("store: migrations: %w", err)
	}
	results, err := p.Up(ctx)
	// SQLite has no advisory lock: when two processes open the same new file at
	// once, the slower one fails on a migration the faster one has just applied.
	// Migrations run in transactions, so nothing is half-applied; trying again
	// sees the new version and has nothing left to do.
	for attempt := 1; err != nil && s.d.oneWriter && attempt < 5; attempt++ {
		results, err = p.Up(ctx)
	}
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	for _, r := range results {
		if logger != nil {
			logger.InfoContext(ctx, "migration applied", "version", r.Source.Version,
				"file", r.Source.Path, "duration", r.Duration)
		}
	}
	return nil
}

// SchemaVersion reports the newest applied migration version.
func (s *Store) SchemaVersion(ctx context.Context) (int64, error) {
	var v sql.NullInt64
	err := s.q.QueryRowContext(ctx, `SELECT MAX(version_id) FROM goose_db_version`).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("store: schema version: %w", err)
	}
	return v.Int64, nil
}

// InTx runs fn with a Store bound to one transaction, committing if fn returns
// nil and rolling back otherwise. Nested calls reuse the outer transaction.
func (s *Store) InTx(ctx context.Context, fn func(tx *Store) error) (err error) {
	if s.inTx {
		return fn(s)
	}
	release, err := s.writer.acquire(ctx)
	if err != nil {
		return err
	}
	defer release()
	sqlTx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		s.health.observe(err) // SQLite's BEGIN IMMEDIATE is already a write
		return fmt.Errorf("store: begin: %w", err)
	}
	defer func() {
		if err != nil {
			_ = sqlTx.Rollback()
		}
	}()
	if err = fn(&Store{db: s.db, q: sqlTx, engine: s.engine, d: s.d, inTx: true, writer: s.writer, stmts: s.stmts,
		health: s.health}); err != nil {
		return err
	}
	if err = sqlTx.Commit(); err != nil {
		s.health.observe(err)
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

var placeholder = regexp.MustCompile(`\$(\d+)`)

// rebind rewrites PostgreSQL placeholders ($1) into SQLite's numbered form (?1).
// Queries are written once, in PostgreSQL style.
func (s *Store) rebind(query string) string {
	if !s.d.numbered {
		return query
	}
	if s.stmts != nil {
		return s.stmts.rebind(query)
	}
	return placeholder.ReplaceAllString(query, "?$1")
}

func (s *Store) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if !s.inTx {
		release, err := s.writer.acquire(ctx)
		if err != nil {
			return nil, err
		}
		defer release()
	}
	query = s.rebind(query)
	var (
		res sql.Result
		err error
	)
	if st := s.stmtFor(ctx, query); st != nil {
		res, err = st.ExecContext(ctx, args...)
	} else {
		res, err = s.q.ExecContext(ctx, query, args...)
	}
	s.health.observe(err)
	return res, err
}

func (s *Store) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	query = s.rebind(query)
	var (
		rows *sql.Rows
		err  error
	)
	if st := s.stmtFor(ctx, query); st != nil {
		rows, err = st.QueryContext(ctx, args...)
	} else {
		rows, err = s.q.QueryContext(ctx, query, args...)
	}
	s.health.observe(err)
	return rows, err
}

func (s *Store) queryRow(ctx context.Context, query string, args ...any) *row {
	query = s.rebind(query)
	if st := s.stmtFor(ctx, query); st != nil {
		return &row{r: st.QueryRowContext(ctx, args...), h: s.health}
	}
	return &row{r: s.q.QueryRowContext(ctx, query, args...), h: s.health}
}

// row is a *sql.Row whose Scan reports write failures (INSERT, UPDATE or
// DELETE … RETURNING) to the write-health tracker.
type row struct {
	r *sql.Row
	h *writeHealth
}

// Scan is sql.Row's Scan.
func (r *row) Scan(dest ...any) error {
	err := r.r.Scan(dest...)
	r.h.observe(err)
	return err
}

// isUniqueViolation recognises a uniqueness failure from either engine.
func isUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505" // unique_violation
	}
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) {
		return liteErr.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE ||
			liteErr.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

func micros(t time.Time) int64 { return t.UTC().UnixMicro() }

func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

func nullMicros(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: micros(t), Valid: true}
}

func fromNullMicros(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return fromMicros(v.Int64)
}

func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return fmt.Errorf("store: %s: %w", what, err)
}
