package roles

import (
	"bytes"
	"os"
	"testing"
)

// TestDocIsCurrent fails when docs/roles.md no longer matches the code.
func TestDocIsCurrent(t *testing.T) {
	got, err := os.ReadFile("../../docs/roles.md")
	if err != nil {
		t.Fatalf("docs/roles.md: %v; run `go generate ./identity/roles`", err)
	}
	if !bytes.Equal(got, Doc()) {
		t.Fatal("docs/roles.md is out of date; run `go generate ./identity/roles` and commit the result")
	}
}
