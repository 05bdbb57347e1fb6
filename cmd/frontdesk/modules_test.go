package main

import (
	"bufio"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// A nested Go module (a go.mod below the repository root, as
// identity/enforce has) is out of reach of `go test ./...` at the root. Each
// must be listed in the Makefile's MODULES, so that `make test` (the README's
// test command, which CI runs) vets and tests it; replaced by its directory
// in the root go.mod, so the server builds against the code in this tree; and
// copied into the image before `go mod download`, which reads its go.mod.
func TestNestedModulesAreTestedAndBuilt(t *testing.T) {
	root := filepath.Join("..", "..")
	nested := map[string]string{} // directory (slash-separated) → module path
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() || d.Name() != "go.mod" || filepath.Dir(p) == root {
			return nil
		}
		rel, err := filepath.Rel(root, filepath.Dir(p))
		if err != nil {
			return err
		}
		nested[filepath.ToSlash(rel)] = modulePath(t, p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := nested["identity/enforce"]; !ok {
		t.Fatalf("found nested modules %v, want identity/enforce among them", nested)
	}

	var modules []string
	for _, l := range readLines(t, filepath.Join(root, "Makefile")) {
		if rest, ok := strings.CutPrefix(l, "MODULES :="); ok {
			modules = strings.Fields(rest)
		}
	}
	rootMod := strings.Join(readLines(t, filepath.Join(root, "go.mod")), "\n") + "\n"
	docker := readLines(t, filepath.Join(root, "Dockerfile"))
	download := slices.IndexFunc(docker, func(l string) bool { return strings.HasPrefix(l, "RUN go mod download") })
	if download < 0 {
		t.Fatal("Dockerfile: no RUN go mod download")
	}
	for dir, path := range nested {
		if !slices.Contains(modules, dir) {
			t.Errorf("Makefile: MODULES %v does not list %s, so make test never runs its tests", modules, dir)
		}
		if !strings.Contains(rootMod, "replace "+path+" => ./"+dir+"\n") {
			t.Errorf("go.mod: no `replace %s => ./%s`", path, dir)
		}
		copied := slices.IndexFunc(docker, func(l string) bool {
			return strings.HasPrefix(l, "COPY ") && strings.Contains(l, " "+dir+"/go.mod ")
		})
		if copied < 0 || copied > download {
			t.Errorf("Dockerfile: %s/go.mod is not copied before `go mod download`", dir)
		}
	}
	for _, m := range modules {
		if _, ok := nested[m]; !ok {
			t.Errorf("Makefile: MODULES lists %s, which has no go.mod", m)
		}
	}
}

// modulePath is the module directive of the go.mod file at p.
func modulePath(t *testing.T, p string) string {
	t.Helper()
	for _, l := range readLines(t, p) {
		if path, ok := strings.CutPrefix(l, "module "); ok {
			return strings.TrimSpace(path)
		}
	}
	t.Fatalf("%s: no module directive", p)
	return ""
}

// readLines returns the file's lines, trimmed.
func readLines(t *testing.T, p string) []string {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines = append(lines, strings.TrimSpace(sc.Text()))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}
