package store

// rebindCacheSize bounds the remembered placeholder rewrites; queries are
// fixed strings in the code, so this is only a guard against generated ones.
const rebindCacheSize = 1024

// rebind returns query with PostgreSQL placeholders rewritten for SQLite,
// remembering the rewrite: running the regular expression on every query
// cost a few microseconds per statement on the token-grant path.
func (c *stmtCache) rebind(query string) string {
	c.rbMu.RLock()
	out, ok := c.rebound[query]
	c.rbMu.RUnlock()
	if ok {
		return out
	}
	out = placeholder.ReplaceAllString(query, "?$1")
	c.rbMu.Lock()
	if c.rebound == nil {
		c.rebound = map[string]string{}
	}
	if len(c.rebound) < rebindCacheSize {
		c.rebound[query] = out
	}
	c.rbMu.Unlock()
	return out
}
