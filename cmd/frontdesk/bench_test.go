package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestBenchRefusesNonLoopbackTargets(t *testing.T) {
	tests := []struct {
		target string
		ok     bool
	}{
		{"http://127.0.0.1:8080", true},
		{"http://localhost:8080", true},
		{"https://[::1]:8443", true},
		{"http://127.1.2.3:8080", true},
		{"http://10.0.0.5:8080", false},
		{"https://login.example.com", false},
		{"http://localhost.example.com", false},
		{"http://0.0.0.0:8080", false},
		{"ftp://127.0.0.1", false},
		{"127.0.0.1:8080", false},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			if err := checkLoopback(tt.target); (err == nil) != tt.ok {
				t.Fatalf("checkLoopback(%q) = %v, want ok=%v", tt.target, err, tt.ok)
			}
		})
	}
}

func TestBenchCommandLine(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no scenario", []string{"bench"}, "--scenario must be one of"},
		{"unknown scenario", []string{"bench", "--scenario", "dos"}, "--scenario must be one of"},
		{"remote target", []string{"bench", "--scenario", "refresh", "--target", "https://login.example.com"}, "not a loopback address"},
		{"remote setup link", []string{"bench", "--scenario", "login", "--setup-url", "https://login.example.com/p/x/setup?token=t"}, "not a loopback address"},
		{"zero requests", []string{"bench", "--scenario", "verify", "--n", "0"}, "--n must be at least 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := run(context.Background(), tt.args, &out, &errb, nil); code != exitUsage || !strings.Contains(errb.String(), tt.want) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", code, errb.String(), exitUsage, tt.want)
			}
		})
	}
}
