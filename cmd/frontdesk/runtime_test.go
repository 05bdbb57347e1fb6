package main

import (
	"testing"

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
