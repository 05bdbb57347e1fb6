package templates

import "testing"

// TestPagesHoldThePartialsTheyInclude: every template a page includes is
// defined in its parsed set (so execution never meets a missing partial),
// and a partial is parsed only into the pages that include it.
func TestPagesHoldThePartialsTheyInclude(t *testing.T) {
	p, err := ParsePages()
	if err != nil {
		t.Fatal(err)
	}
	if len(p.pages) == 0 {
		t.Fatal("no pages parsed")
	}
	for name, tmpl := range p.pages {
		for inc := range includedTemplates(tmpl) {
			if tmpl.Lookup(inc) == nil {
				t.Errorf("page %s includes template %q, which its set does not define", name, inc)
			}
		}
	}
	for _, tc := range []struct {
		page, partial string
		want          bool
	}{
		{"admin_member", "practitioner", true},
		{"login", "practitioner", false},
		{"home", "practitioner", false},
		{"admin_roles", "rolechoices", true},
	} {
		tmpl, ok := p.pages[tc.page]
		if !ok {
			t.Fatalf("no page %s", tc.page)
		}
		if got := tmpl.Lookup(tc.partial) != nil; got != tc.want {
			t.Errorf("page %s defines %q: %v, want %v", tc.page, tc.partial, got, tc.want)
		}
	}
}
