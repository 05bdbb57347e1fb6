//go:build pprof

package main

// Built only with -tags pprof (never in a release binary): serves the Go
// profiler on the loopback address in FDPPROF_ADDR (for example
// 127.0.0.1:6060) so the load runs in docs/performance.md can be profiled
// (go tool pprof http://127.0.0.1:6060/debug/pprof/profile?seconds=10).

import (
	"net"
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof on http.DefaultServeMux
	"os"
	"time"
)

func init() {
	addr := os.Getenv("FDPPROF_ADDR")
	if addr == "" {
		return
	}
	host, _, err := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		return // loopback only
	}
	srv := &http.Server{Addr: addr, Handler: http.DefaultServeMux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.ListenAndServe() }()
}
