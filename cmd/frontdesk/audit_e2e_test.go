package main

import (
	"bufio"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite" // the test tampers with the database directly
)

// The real binary verifies and exports the audit trail, and `audit verify`
// fails (exit 1) naming the first bad row once a row is edited.
func TestAuditVerifyAndExport(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	env := cleanEnv("FRONTDESK_DATA_DIR=" + filepath.Join(dir, "data"))
	for _, slug := range []string{"north", "south"} {
		if code, out := runCLI(t, bin, dir, env, "practice", "create", "--slug", slug, "--name", "Practice "+slug,
			"--owner-email", "owner@"+slug+".example"); code != 0 {
			t.Fatalf("practice create: %d\n%s", code, out)
		}
	}
	if code, out := runCLI(t, bin, dir, env, "audit", "verify"); code != 0 || strings.Count(out, "ok     practice") != 2 {
		t.Fatalf("audit verify: %d\n%s", code, out)
	}
	code, out := runCLI(t, bin, dir, env, "audit", "export", "--practice", "north")
	if code != 0 {
		t.Fatalf("audit export: %d\n%s", code, out)
	}
	var first map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	if !sc.Scan() || json.Unmarshal(sc.Bytes(), &first) != nil || first["action"] == nil || first["hash"] == "" {
		t.Fatalf("export output: %s", out)
	}
	code, out = runCLI(t, bin, dir, env, "audit", "export", "--practice", "north", "--format", "csv", "--since", "2000-01-01")
	if code != 0 {
		t.Fatalf("audit export csv: %d\n%s", code, out)
	}
	if rows, err := csv.NewReader(strings.NewReader(out[:strings.LastIndex(out, "exported")])).ReadAll(); err != nil ||
		len(rows) < 2 || rows[0][0] != "id" {
		t.Fatalf("csv export: %v\n%s", err, out)
	}

	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"audit"}, 2, "expected a subcommand"},
		{[]string{"audit", "export"}, 2, "--practice is required"},
		{[]string{"audit", "export", "--practice", "north", "--format", "xml"}, 2, "use jsonl or csv"},
		{[]string{"audit", "export", "--practice", "north", "--since", "yesterday"}, 2, "2026-11-24"},
		{[]string{"audit", "verify", "--practice", "nowhere"}, 1, "no practice has the slug"},
	} {
		if code, out := runCLI(t, bin, dir, env, tc.args...); code != tc.code || !strings.Contains(out, tc.want) {
			t.Errorf("%v: exit %d, want %d with %q\n%s", tc.args, code, tc.code, tc.want, out)
		}
	}

	// Tamper with the first event of "north".
	db, err := sql.Open("sqlite", filepath.Join(dir, "data", "frontdesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var id int64
	if err := db.QueryRow(`SELECT e.id FROM audit_events e JOIN practices p ON p.id = e.practice_id
		WHERE p.slug = 'north' ORDER BY e.id LIMIT 1`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE audit_events SET outcome = 'failure' WHERE id = ?`, id); err != nil {
		t.Fatal(err)
	}
	code, out = runCLI(t, bin, dir, env, "audit", "verify")
	if code != 1 || !strings.Contains(out, "BROKEN practice \"north\"") || !strings.Contains(out, "ok     practice \"south\"") ||
		!strings.Contains(out, "was edited") {
		t.Errorf("audit verify after tampering: %d\n%s", code, out)
	}
}
