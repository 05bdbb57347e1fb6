package enforce_test

import (
	"os"
	"slices"
	"strings"
	"testing"
)

// enforce is its own module so that a practice app importing it inherits
// only what verification needs: its go.mod requires go-jose (the JWKS) and
// golang-jwt (the token) and nothing else (in particular not the server's
// module), and asks for no newer Go than go-jose does.
func TestModuleRequiresOnlyJOSELibraries(t *testing.T) {
	b, err := os.ReadFile("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	var (
		module, goVersion string
		requires          []string
		inBlock           bool
	)
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		if i := strings.Index(l, "//"); i >= 0 {
			l = strings.TrimSpace(l[:i])
		}
		f := strings.Fields(l)
		switch {
		case len(f) == 0:
		case inBlock && f[0] == ")":
			inBlock = false
		case inBlock:
			requires = append(requires, f[0])
		case f[0] == "module" && len(f) == 2:
			module = f[1]
		case f[0] == "go" && len(f) == 2:
			goVersion = f[1]
		case f[0] == "require" && len(f) == 2 && f[1] == "(":
			inBlock = true
		case f[0] == "require" && len(f) == 3:
			requires = append(requires, f[1])
		case f[0] == "replace" || f[0] == "toolchain":
			t.Errorf("go.mod: %q: a library's replace or toolchain line only confuses its importers", l)
		}
	}
	if module != "github.com/frontdeskhq/frontdesk/identity/enforce" {
		t.Errorf("module %q: the import path must stay github.com/frontdeskhq/frontdesk/identity/enforce", module)
	}
	if want := []string{"github.com/go-jose/go-jose/v4", "github.com/golang-jwt/jwt/v5"}; !slices.Equal(requires, want) {
		t.Errorf("go.mod requires %v, want only %v", requires, want)
	}
	if goVersion != "1.24.0" {
		t.Errorf("go %s: apps importing enforce inherit this minimum; keep it at go-jose's (1.24.0) unless the code needs newer", goVersion)
	}
}
