package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/frontdeskhq/frontdesk/internal/servetest"
)

// TestPracticeSSOCommands: add (secret from a file), list (never prints the
// secret), refusals with usage errors, remove — in-process on the embedded
// default.
func TestPracticeSSOCommands(t *testing.T) {
	dir := t.TempDir()
	env := servetest.CleanEnv("FRONTDESK_BOOTSTRAP_DEMO=false", "FRONTDESK_DATA_DIR="+dir)
	ctx := context.Background()
	cli := func(args ...string) (int, string) {
		t.Helper()
		var out bytes.Buffer
		code := run(ctx, args, &out, &out, env)
		return code, out.String()
	}
	mustRun := func(args ...string) string {
		t.Helper()
		code, out := cli(args...)
		if code != 0 {
			t.Fatalf("%v: exit %d\n%s", args, code, out)
		}
		return out
	}
	const secret = "very-secret-client-secret-0123456789"
	secretFile := filepath.Join(dir, "secret.txt")
	if err := os.WriteFile(secretFile, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustRun("practice", "create", "--slug", "sunrise", "--name", "Sunrise Therapy", "--owner-email", "olive@example.org")
	out := mustRun("practice", "sso", "add", "--practice", "sunrise", "--kind", "google", "--client-id", "123.apps.googleusercontent.com",
		"--client-secret-file", secretFile, "--domain", "Sunrise.Example", "--json")
	var (
		p   struct{ ID, Issuer, RedirectURI string }
		raw map[string]any
	)
	if err := json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &raw); err != nil {
		t.Fatalf("add --json: %v\n%s", err, out)
	}
	p.ID, _ = raw["id"].(string)
	p.Issuer, _ = raw["issuer"].(string)
	p.RedirectURI, _ = raw["redirect_uri"].(string)
	if p.Issuer != "https://accounts.google.com" || !strings.HasSuffix(p.RedirectURI, "/p/sunrise/sso/callback") ||
		raw["display_name"] != "Google" {
		t.Errorf("added provider = %v", raw)
	}
	list := mustRun("practice", "sso", "list", "--practice", "sunrise")
	if !strings.Contains(list, p.ID) || !strings.Contains(list, "sunrise.example") {
		t.Errorf("list:\n%s", list)
	}
	for _, o := range []string{out, list, mustRun("practice", "sso", "list", "--practice", "sunrise", "--json")} {
		if strings.Contains(o, secret) {
			t.Fatal("the client secret was printed")
		}
	}
	// The secret is stored sealed, not in the clear.
	db, err := os.ReadFile(filepath.Join(dir, "frontdesk.db"))
	if err == nil && bytes.Contains(db, []byte(secret)) {
		t.Fatal("the client secret is in the database file in the clear")
	}

	refusals := []struct {
		name string
		args []string
		want string
	}{
		{"entra needs a tenant GUID", []string{"practice", "sso", "add", "--practice", "sunrise", "--kind", "entra", "--tenant", "contoso.example",
			"--client-id", "x", "--client-secret-file", secretFile}, "tenant"},
		{"generic needs https", []string{"practice", "sso", "add", "--practice", "sunrise", "--kind", "generic", "--issuer", "http://idp.example",
			"--client-id", "x", "--client-secret-file", secretFile}, "issuer"},
		{"join needs domains", []string{"practice", "sso", "add", "--practice", "sunrise", "--kind", "generic", "--issuer", "https://idp.example",
			"--name", "IdP", "--client-id", "x", "--client-secret-file", secretFile, "--join-role", "practitioner"}, "allowed_domains"},
		{"secret required", []string{"practice", "sso", "add", "--practice", "sunrise", "--kind", "google", "--client-id", "x"}, "client-secret-file"},
		{"issuer on loopback (F2)", []string{"practice", "sso", "add", "--practice", "sunrise", "--kind", "generic", "--issuer", "https://127.0.0.1:9260",
			"--name", "Internal", "--client-id", "x", "--client-secret-file", secretFile}, "outbound.allowed_ranges"},
		{"issuer on metadata address (F2)", []string{"practice", "sso", "add", "--practice", "sunrise", "--kind", "generic", "--issuer", "https://[::ffff:169.254.169.254]",
			"--name", "Internal", "--client-id", "x", "--client-secret-file", secretFile}, "outbound.allowed_ranges"},
		{"duplicate", []string{"practice", "sso", "add", "--practice", "sunrise", "--kind", "google", "--client-id", "123.apps.googleusercontent.com",
			"--client-secret-file", secretFile}, "already exists"},
		{"unknown practice", []string{"practice", "sso", "list", "--practice", "nope"}, "no such practice"},
		{"remove unknown", []string{"practice", "sso", "remove", "--practice", "sunrise", "--id", "nope"}, "no such provider"},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			code, out := cli(tc.args...)
			if code == 0 || !strings.Contains(out, tc.want) {
				t.Errorf("exit %d, want an error mentioning %q:\n%s", code, tc.want, out)
			}
		})
	}
	if out := mustRun("practice", "sso", "requests", "--practice", "sunrise"); !strings.Contains(out, "No join requests") {
		t.Errorf("requests:\n%s", out)
	}
	mustRun("practice", "sso", "remove", "--practice", "sunrise", "--id", p.ID)
	if out := mustRun("practice", "sso", "list", "--practice", "sunrise"); strings.Contains(out, p.ID) {
		t.Errorf("removed provider still listed:\n%s", out)
	}
}
