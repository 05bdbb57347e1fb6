package main

import (
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// docs/design.md's Parts table matches the folders: every Go package has a
// row, or is named in backticks in the row of the folder above it (the test
// kits, identity/roles' cmd/gendoc), and every row names a folder that
// exists.
func TestDesignPartsMatchFolders(t *testing.T) {
	root := filepath.Join("..", "..")
	text, err := os.ReadFile(filepath.Join(root, "docs", "design.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, parts, ok := strings.Cut(string(text), "\n## Parts\n")
	if !ok {
		t.Fatal("docs/design.md has no ## Parts section")
	}
	parts, _, _ = strings.Cut(parts, "\n## ")
	rows := map[string]string{} // folder → the rest of its row
	row := regexp.MustCompile("(?m)^\\| `([a-z][a-z0-9/_-]*)` \\|(.*)$")
	for _, m := range row.FindAllStringSubmatch(parts, -1) {
		rows[m[1]] = m[2]
	}
	if len(rows) < 10 {
		t.Fatalf("found %d rows in the Parts table; is it still a table of `folder` | owns?", len(rows))
	}
	for dir := range rows {
		if fi, err := os.Stat(filepath.Join(root, dir)); err != nil || !fi.IsDir() {
			t.Errorf("docs/design.md Parts: %s is not a folder", dir)
		}
	}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		rel, err := filepath.Rel(root, filepath.Dir(p))
		if err != nil {
			return err
		}
		pkg := filepath.ToSlash(rel)
		if _, ok := rows[pkg]; ok {
			return nil
		}
		for parent := path.Dir(pkg); parent != "."; parent = path.Dir(parent) {
			if r, ok := rows[parent]; ok && strings.Contains(r, "`"+strings.TrimPrefix(pkg, parent+"/")+"`") {
				return nil
			}
		}
		if pkg != "." {
			rows[pkg] = "" // report each package once
			t.Errorf("docs/design.md Parts: no row for %s, nor a mention in the row of a folder above it", pkg)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
