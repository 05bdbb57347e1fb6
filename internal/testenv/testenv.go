// Package testenv is for tests only: where the repository's root is, and
// what a test does when a service or tool it needs is missing — skip on a
// developer's machine, fail under CI=true, where everything must run.
package testenv

import (
	"os"
	"path/filepath"
	"testing"
)

// Missing skips the test, saying what is missing and how to get it, or
// fails it when CI=true. kind names the tests ("browser test").
func Missing(t testing.TB, kind, why, remedy string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s cannot run in CI: %s", kind, why)
	}
	if remedy != "" {
		why += " (" + remedy + ")"
	}
	t.Skipf("%s skipped: %s", kind, why)
}

// RepoRoot is the directory of the go.mod above the test's working
// directory.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}
