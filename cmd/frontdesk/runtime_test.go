package main

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/config"
)

func TestGCSettings(t *testing.T) {
	cfg := &config.Config{}
	cfg.Passwords.HashConcurrency = 2
	cfg.Passwords.Argon2MemoryKiB = 19456
	arenas := int64(2 * 19456 << 10)
	tests := []struct {
		name        string
		env         []string
		wantPercent int
		wantLimit   int64
	}{
		{"defaults", nil, serveGCPercent, serveHeapBase + arenas},
		{"GOGC set", []string{"GOGC=100"}, 0, serveHeapBase + arenas},
		{"GOMEMLIMIT set", []string{"GOMEMLIMIT=1GiB"}, serveGCPercent, 0},
		{"both set", []string{"GOGC=off", "GOMEMLIMIT=1GiB"}, 0, 0},
		{"similar names do not count", []string{"GOGCX=1", "XGOMEMLIMIT=1"}, serveGCPercent, serveHeapBase + arenas},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, l := gcSettings(cfg, tt.env)
			if p != tt.wantPercent || l != tt.wantLimit {
				t.Errorf("gcSettings = %d, %d; want %d, %d", p, l, tt.wantPercent, tt.wantLimit)
			}
		})
	}
}

// Memory is released once per quiet spell: not while requests keep coming,
// once when they stop, and again only after the next one.
func TestIdleRelease(t *testing.T) {
	r := newIdleRelease(time.Hour, func() {}) // the test calls tick itself
	var frees int
	r.free = func() { frees++ }
	h := r.wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	steps := []struct {
		requests, want int
		path           string
	}{
		{0, 0, ""},         // idle since start: nothing grown, nothing to free
		{5, 0, ""},         // busy
		{3, 0, ""},         // still busy
		{0, 1, ""},         // quiet: freed once
		{0, 1, ""},         // still quiet: not again
		{1, 1, ""},         // busy again
		{0, 2, ""},         // quiet again: freed
		{1, 2, ""},         // busy
		{4, 3, "/healthz"}, // probes and scrapes only: quiet, freed
		{2, 3, "/metrics"}, // still only scrapes: not again
	}
	for i, s := range steps {
		path := s.path
		if path == "" {
			path = "/p/demo/login"
		}
		for range s.requests {
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, path, nil))
		}
		r.tick()
		if frees != s.want {
			t.Fatalf("step %d: %d releases, want %d", i, frees, s.want)
		}
	}
}
