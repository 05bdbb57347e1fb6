package rp

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestDocSnippets holds the snippets in docs/app-developers.md ("Tested
// relying parties") to the code and configuration these tests run: each
// snippet names its file, and each of its lines that is not a comment
// (// or #, the reader's signposts) is a line of that file.
func TestDocSnippets(t *testing.T) {
	root := repoRoot(t)
	doc, err := os.ReadFile(filepath.Join(root, "docs", "app-developers.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(doc), "\n## Tested relying parties\n")
	if !ok {
		t.Fatal(`docs/app-developers.md has no section "Tested relying parties"`)
	}
	section, _, _ = strings.Cut(section, "\n## ")

	snippetRE := regexp.MustCompile("(?s)<!-- snippet: (\\S+) -->\n```[a-z]*\n(.*?)\n```")
	var files []string
	for _, m := range snippetRE.FindAllStringSubmatch(section, -1) {
		path, body := m[1], m[2]
		files = append(files, path)
		src, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(path)))
		if err != nil {
			t.Errorf("snippet of %s: %v", path, err)
			continue
		}
		var lines []string
		for line := range strings.Lines(string(src)) {
			lines = append(lines, strings.TrimSpace(line))
		}
		for line := range strings.Lines(body) {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "//") || strings.HasPrefix(line, "#") {
				continue
			}
			if !slices.Contains(lines, line) {
				t.Errorf("docs/app-developers.md, snippet of %s: %q is not a line of that file", path, line)
			}
		}
	}
	for _, want := range []string{
		"e2e/rp/testdata/frontdesk.yaml",
		"e2e/rp/goapp_test.go",
		"e2e/rp/testdata/openid-client/rp.mjs",
		"e2e/rp/testdata/authlib/rp.py",
		"e2e/rp/testdata/mod_auth_openidc/httpd.conf",
	} {
		if !slices.Contains(files, want) {
			t.Errorf(`docs/app-developers.md ("Tested relying parties") has no snippet of %s`, want)
		}
	}
}
