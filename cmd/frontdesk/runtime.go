package main

import (
	"context"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

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
// hasher never runs more than hash_concurrency at once, and serve makes it
// collect after each hash so a dead arena is freed before its slot
// allocates the next: password.Hasher.SetCollectAfterHash). Near the limit
// the collector simply runs more often.
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

// idleReleaseAfter is how long serve waits without a request before
// returning memory to the system.
const idleReleaseAfter = 10 * time.Second

// idleRelease returns memory to the operating system once the server has
// been idle for a while. Under load the Go runtime keeps the heap it grew
// (with serveGCPercent, several times what is live) and gives it back only
// gradually; after a burst of logins a quiet server sat at 55-60 MB resident
// instead of the 28 MB it starts with. One forced collection when the
// traffic stops costs a few milliseconds of CPU once.
type idleRelease struct {
	requests atomic.Int64
	interval time.Duration
	free     func() // release, then debug.FreeOSMemory; replaced in tests
	last     int64  // requests at the last tick
	freed    bool   // memory freed since the last request
}

// newIdleRelease returns an idleRelease that, after interval without
// requests, calls release (which closes what holds memory outside the Go
// heap, such as idle database connections) and returns the Go heap's free
// memory to the system.
func newIdleRelease(interval time.Duration, release func()) *idleRelease {
	return &idleRelease{interval: interval, freed: true, free: func() {
		release()
		debug.FreeOSMemory()
	}}
}

// wrap counts the requests h serves, except the probes and scrapes a load
// balancer and Prometheus send every few seconds (which would otherwise keep
// a quiet server from ever counting as idle).
func (r *idleRelease) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		switch req.URL.Path {
		case "/healthz", "/readyz", "/metrics":
		default:
			r.requests.Add(1)
		}
		h.ServeHTTP(w, req)
	})
}

// run frees memory once per quiet spell (a whole interval without a request
// after at least one request) until ctx ends.
func (r *idleRelease) run(ctx context.Context) {
	t := time.NewTicker(r.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			r.tick()
		}
	}
}

// tick looks at the requests since the last tick; only run calls it.
func (r *idleRelease) tick() {
	n := r.requests.Load()
	switch {
	case n != r.last:
		r.last, r.freed = n, false
	case !r.freed:
		r.free()
		r.freed = true
	}
}
