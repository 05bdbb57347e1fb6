package store

import (
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// dialect is everything that differs between the engines, in one value per
// engine: the queries are written once, in PostgreSQL style, and the few
// places where an engine needs other SQL or other machinery ask the
// dialect instead of testing the engine. A new engine is a new case in
// dialectOf, its migrations under migrations/<engine>/, and a DSN in
// storetest; the storage conformance suite (every test of this package,
// run on each engine) says whether it is done.
type dialect struct {
	// driver is the database/sql driver name; dsn turns the configured
	// address into the driver's.
	driver string
	dsn    func(string) string
	// numbered: placeholders are written ?1 instead of $1 (rebind).
	numbered bool
	// oneWriter: the engine allows one writer at a time (SQLite): this
	// process serialises its writes, keeps statements prepared, batches
	// refresh-token rotations, checkpoints the WAL off the request path,
	// and retries a migration that another process applied first.
	oneWriter bool
	// lockRow ends a SELECT that locks its row until the transaction ends;
	// skipLocked ends the outbox's claiming subquery so workers pass over
	// rows another worker holds. Both are empty where the engine has one
	// writer anyway.
	lockRow, skipLocked string
	// memberByEmail, memberByID and refreshWithMember read a member with
	// their role keys in one statement, in the engine's aggregate syntax.
	memberByEmail, memberByID, refreshWithMember string
	// oneStatementRotate: a refresh-token rotation is first tried as one
	// statement (PostgreSQL's data-modifying CTE).
	oneStatementRotate bool
	// goose is the migration dialect; migrationLock, when set, makes
	// replicas starting at once apply each migration exactly once.
	goose         goose.Dialect
	migrationLock func() (lock.SessionLocker, error)
}

// dialectOf returns the dialect of an engine, false for an unknown one.
func dialectOf(e Engine) (dialect, bool) {
	switch e {
	case SQLite:
		return dialect{driver: "sqlite", dsn: sqliteDSN, numbered: true, oneWriter: true,
			memberByEmail: memberByEmailSQLite, memberByID: memberByIDSQLite, refreshWithMember: refreshWithMemberSQLite,
			goose: goose.DialectSQLite3}, true
	case Postgres:
		return dialect{driver: "pgx", dsn: func(s string) string { return s },
			lockRow: " FOR UPDATE", skipLocked: " FOR UPDATE SKIP LOCKED",
			memberByEmail: memberByEmailPostgres, memberByID: memberByIDPostgres, refreshWithMember: refreshWithMemberPostgres,
			oneStatementRotate: true, goose: goose.DialectPostgres,
			migrationLock: func() (lock.SessionLocker, error) {
				return lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 600))
			}}, true
	}
	return dialect{}, false
}
