package store

import (
	"context"
	"database/sql"
	"strings"
	"sync"
)

// stmtCacheSize bounds how many distinct statements are kept prepared.
const stmtCacheSize = 256

// stmtCache keeps SQLite statements prepared. modernc's SQLite parses every
// statement it is given afresh, which cost about a fifth of a refresh grant's
// CPU; a *sql.Stmt is prepared once per connection and reused. PostgreSQL
// needs no cache (pgx caches prepared statements per connection itself), so
// a nil cache passes everything through.
type stmtCache struct {
	db    *sql.DB
	mu    sync.Mutex
	stmts map[string]*sql.Stmt

	rbMu    sync.RWMutex
	rebound map[string]string // rebindcache.go
}

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, stmts: map[string]*sql.Stmt{}}
}

// get returns the prepared statement for query, preparing it the first
// time, or nil when the query is not cached (several statements, the cache
// full, or preparing failed — the caller then runs the query directly and
// sees any error there).
func (c *stmtCache) get(ctx context.Context, query string) *sql.Stmt {
	if c == nil || strings.Contains(query, ";") {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.stmts[query]; ok {
		return st
	}
	if len(c.stmts) >= stmtCacheSize {
		return nil
	}
	st, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	c.stmts[query] = st
	return st
}

// close closes every cached statement.
func (c *stmtCache) close() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, st := range c.stmts {
		_ = st.Close()
		delete(c.stmts, q)
	}
}

// stmtFor returns the cached statement for query bound to s's transaction
// when s is in one, or nil.
func (s *Store) stmtFor(ctx context.Context, query string) *sql.Stmt {
	st := s.stmts.get(ctx, query)
	if st == nil {
		return nil
	}
	if tx, ok := s.q.(*sql.Tx); ok {
		return tx.StmtContext(ctx, st)
	}
	return st
}
