package main

import (
	"log/slog"
	"runtime/debug"
	"strings"

	"github.com/frontdeskhq/frontdesk/identity/config"
)

// Garbage-collector settings for serve, unless the operator set GOGC or
// GOMEMLIMIT (which then win).
//
// A token grant allocates tens of kilobytes and keeps almost nothing, so with
// the default GOGC=100 over a heap of a few megabytes the collector ran many
// times a second under load (about a tenth of the CPU in the profiles in
// docs/performance.md). serveGCPercent lets the heap grow further between
// collections; the soft memory limit then keeps the heap bounded by design:
// a fixed allowance plus one Argon2id arena per hashing slot (the bounded
// hasher never runs more than hash_concurrency at once). Near the limit the
// collector simply runs more often.
const (
	serveGCPercent = 400
	// serveHeapBase is the heap allowed besides the Argon2id arenas.
	serveHeapBase = 48 << 20
)

// gcSettings returns the GC percent and soft memory limit serve uses for
// cfg; zero means "leave the runtime's setting" (the environment set it).
func gcSettings(cfg *config.Config, env []string) (percent int, limit int64) {
	set := func(name string) bool {
		for _, kv := range env {
			if strings.HasPrefix(kv, name+"=") {
				return true
			}
		}
		return false
	}
	if !set("GOGC") {
		percent = serveGCPercent
	}
	if !set("GOMEMLIMIT") {
		limit = serveHeapBase + int64(cfg.HashConcurrency())*int64(cfg.Passwords.Argon2MemoryKiB)<<10
	}
	return percent, limit
}

// tuneGC applies gcSettings to the running process.
func tuneGC(cfg *config.Config, env []string, logger *slog.Logger) {
	percent, limit := gcSettings(cfg, env)
	if percent > 0 {
		debug.SetGCPercent(percent)
	}
	if limit > 0 {
		debug.SetMemoryLimit(limit)
	}
	logger.Debug("garbage collector", "gc_percent", percent, "memory_limit_bytes", limit)
}
