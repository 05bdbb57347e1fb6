package roles

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// permConstants reads perms.go and returns every constant it declares with
// its value and doc comment, so that a constant added there is covered by
// the tests below without being listed again.
func permConstants(t *testing.T) map[string]struct{ value, doc string } {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "perms.go", nil, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]struct{ value, doc string }{}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			vs := s.(*ast.ValueSpec)
			for i, n := range vs.Names {
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					t.Fatalf("perms.go: %s is not a string literal; spell each permission out once", n.Name)
				}
				v, err := strconv.Unquote(lit.Value)
				if err != nil {
					t.Fatal(err)
				}
				out[n.Name] = struct{ value, doc string }{v, vs.Doc.Text()}
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("perms.go declares no constants")
	}
	return out
}

// Every permission constant is a permission of the catalogue (with a scope
// exactly when the catalogue asks for one), named PermX, spelled once, and
// documented.
func TestPermConstantsAreInTheCatalogue(t *testing.T) {
	seen := map[string]string{}
	for name, c := range permConstants(t) {
		if err := Validate(c.value); err != nil {
			t.Errorf("%s = %q: %v", name, c.value, err)
		}
		if !strings.HasPrefix(name, "Perm") {
			t.Errorf("%s: permission constants are named PermX", name)
		}
		if other, dup := seen[c.value]; dup {
			t.Errorf("%s and %s both spell %q; keep one", name, other, c.value)
		}
		seen[c.value] = name
		if !strings.HasPrefix(c.doc, name+" lets ") {
			t.Errorf("%s: doc comment %q should say what it lets one do (\"%s lets …\")", name, c.doc, name)
		}
	}
}

// No package of the server other than roles spells a permission of the
// catalogue as a string literal: they use the roles.PermX constants.
// cmd/practice-demo is a practice app (it imports only enforce, as apps
// do) and its route table is its own; identity/enforce is a module of its
// own that knows no catalogue. Tests are not checked.
func TestNoPermissionLiteralsOutsideRoles(t *testing.T) {
	skip := map[string]bool{
		filepath.Join("..", "roles"):                      true,
		filepath.Join("..", "enforce"):                    true,
		filepath.Join("..", "..", "cmd", "practice-demo"): true,
	}
	checked := 0
	for _, root := range []string{"..", filepath.Join("..", "..", "cmd")} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if skip[path] || d.Name() == "testdata" {
					return filepath.SkipDir
				}
				return nil
			}
			if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
			if err != nil {
				return err
			}
			checked++
			ast.Inspect(f, func(n ast.Node) bool {
				lit, ok := n.(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					return true
				}
				if v, err := strconv.Unquote(lit.Value); err == nil && Validate(v) == nil {
					t.Errorf("%s: permission %q spelled as a literal; use the roles.PermX constant (add one to identity/roles/perms.go)",
						fset.Position(lit.Pos()), v)
				}
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if checked < 50 {
		t.Fatalf("checked only %d files; is the walk rooted at identity/roles?", checked)
	}
}

// Parse's errors are the ones people read (console, admin API, app
// registration): the move of the grammar to identity/enforce keeps them
// word for word.
func TestParseErrorMessages(t *testing.T) {
	long := strings.Repeat("a", 198) + ".bb" // 201 bytes
	cases := []struct{ in, want string }{
		{long, `roles: not a permission in the catalogue: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"… is too long`},
		{"clients.view:everyone", `roles: not a permission in the catalogue: "clients.view:everyone" has an unknown scope; use one of own, assigned, supervisees, all`},
		{"clients.view:", `roles: not a permission in the catalogue: "clients.view:" has an unknown scope; use one of own, assigned, supervisees, all`},
		{"clients.view:all:own", `roles: not a permission in the catalogue: "clients.view:all:own" has an unknown scope; use one of own, assigned, supervisees, all`},
		{"clients", `roles: not a permission in the catalogue: "clients" is not of the form resource.action[:scope]`},
		{".view", `roles: not a permission in the catalogue: ".view" is not of the form resource.action[:scope]`},
		{"clients.", `roles: not a permission in the catalogue: "clients." is not of the form resource.action[:scope]`},
		{"", `roles: not a permission in the catalogue: "" is not of the form resource.action[:scope]`},
		{"Clients.view", `roles: not a permission in the catalogue: "Clients.view": "Clients" is not a word of a-z, 0-9, '_' and '-'`},
		{"clients..view", `roles: not a permission in the catalogue: "clients..view": "" is not a word of a-z, 0-9, '_' and '-'`},
		{"clients.*", `roles: not a permission in the catalogue: "clients.*": "*" is not a word of a-z, 0-9, '_' and '-'`},
		{"app.*.x.login", `roles: not a permission in the catalogue: "app.*.x.login": "*" is not a word of a-z, 0-9, '_' and '-'`},
	}
	for _, c := range cases {
		_, err := Parse(c.in)
		if err == nil || err.Error() != c.want {
			t.Errorf("Parse(%.50q) error\n got %v\nwant %s", c.in, err, c.want)
		}
	}
	longest := strings.Repeat("a", 196) + ".bbb" // 200 bytes
	for _, ok := range []string{"clients.view", "clients.view:own", "app.*.login", "app.my-ehr_2.login", longest} {
		if _, err := Parse(ok); err != nil {
			t.Errorf("Parse(%.50q): %v", ok, err)
		}
	}
}
