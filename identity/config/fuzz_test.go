package config

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoadYAML: any file content either loads into a configuration that
// passes validation or is refused with an error; nothing panics.
func FuzzLoadYAML(f *testing.F) {
	if b, err := os.ReadFile("../../config.example.yaml"); err == nil {
		f.Add(string(b))
	}
	for _, s := range []string{"", "server:\n  listen: ':0'\n", "server: [1, 2]", "a: &x [*x]", "server:\n  listne: x\n",
		"passwords:\n  min_length: 99999999999999999999\n", "clients:\n  - id: a\n    redirect_uris: [rel]\n"} {
		f.Add(s)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, content string) {
		path := filepath.Join(dir, "c.yaml")
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := Load(path, nil)
		if err != nil {
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("Load accepted a configuration that fails Validate: %v", err)
		}
	})
}
