package browser

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
)

// The accessibility check itself finds what it must: a page with an image
// without alt text, an unlabelled field and no language gets serious or
// critical violations, so a clean result on frontdesk's pages means
// something.
func TestAxeCheckFindsViolations(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test; skipped with -short")
	}
	t.Parallel() // each test has its own frontdesk and browser
	axe := axeSource(t)
	chromiumPath(t)
	dir := artefacts(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(`<!doctype html><html><head><title>bad</title></head><body>
<main><h1>Bad page</h1><img src="/x.png"><form><input name="q"></form></main></body></html>`))
	}))
	defer srv.Close()

	b := newTab(t, dir, axe)
	b.visit(srv.URL+"/", "h1")
	var found []string
	for _, v := range b.axeCheck("a bad page") {
		if blocking(v) {
			found = append(found, v.ID)
		}
	}
	for _, want := range []string{"image-alt", "label", "html-has-lang"} {
		if !slices.Contains(found, want) {
			t.Errorf("axe-core did not report %s as serious or critical; it reported %v", want, found)
		}
	}
}
