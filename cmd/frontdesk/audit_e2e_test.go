package main

import (
	"bufio"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/frontdeskhq/frontdesk/internal/servetest"
	_ "modernc.org/sqlite" // the test tampers with the database directly
)

// The real binary verifies and exports the audit trail, and `audit verify`
// fails (exit 1) naming the first bad row once a row is edited.
func TestAuditVerifyAndExport(t *testing.T) {
	bin := frontdeskBinary.Path(t)
	dir := t.TempDir()
	env := servetest.CleanEnv("FRONTDESK_DATA_DIR=" + filepath.Join(dir, "data"))
	for _, slug := range []string{"north", "south"} {
		if code, out := servetest.RunCLI(t, bin, dir, env, "practice", "create", "--slug", slug, "--name", "Practice "+slug,
			"--owner-email", "owner@"+slug+".example"); code != 0 {
			t.Fatalf("practice create: %d\n%s", code, out)
		}
	}
	if code, out := servetest.RunCLI(t, bin, dir, env, "audit", "verify"); code != 0 || strings.Count(out, "ok     practice") != 2 {
		t.Fatalf("audit verify: %d\n%s", code, out)
	}
	code, out := servetest.RunCLI(t, bin, dir, env, "audit", "export", "--practice", "north")
	if code != 0 {
		t.Fatalf("audit export: %d\n%s", code, out)
	}
	var first map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	if !sc.Scan() || json.Unmarshal(sc.Bytes(), &first) != nil || first["action"] == nil || first["hash"] == "" {
		t.Fatalf("export output: %s", out)
	}
	code, out = servetest.RunCLI(t, bin, dir, env, "audit", "export", "--practice", "north", "--format", "csv", "--since", "2000-01-01")
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
		if code, out := servetest.RunCLI(t, bin, dir, env, tc.args...); code != tc.code || !strings.Contains(out, tc.want) {
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
	code, out = servetest.RunCLI(t, bin, dir, env, "audit", "verify")
	if code != 1 || !strings.Contains(out, "BROKEN practice \"north\"") || !strings.Contains(out, "ok     practice \"south\"") ||
		!strings.Contains(out, "was edited") {
		t.Errorf("audit verify after tampering: %d\n%s", code, out)
	}
}

// TestAuditVerifyKeptHead is issue 17 point 7 (security review L4): deleting
// a practice's newest audit rows and rewriting its audit_chain_heads row to
// match still passes a plain `audit verify`, but `audit verify --head` with
// the head kept from before fails and says what happened; untouched, the
// kept head verifies.
func TestAuditVerifyKeptHead(t *testing.T) {
	bin := frontdeskBinary.Path(t)
	dir := t.TempDir()
	env := servetest.CleanEnv("FRONTDESK_DATA_DIR=" + filepath.Join(dir, "data"))
	if code, out := servetest.RunCLI(t, bin, dir, env, "practice", "create", "--slug", "north", "--name", "North",
		"--owner-email", "owner@north.example"); code != 0 {
		t.Fatalf("practice create: %d\n%s", code, out)
	}
	// More events for the chain: each invitation is audited.
	for _, who := range []string{"a", "b", "c"} {
		if code, out := servetest.RunCLI(t, bin, dir, env, "admin", "invite", "--practice", "north", "--email", who+"@north.example",
			"--role", "practitioner"); code != 0 {
			t.Fatalf("admin invite: %d\n%s", code, out)
		}
	}
	code, out := servetest.RunCLI(t, bin, dir, env, "audit", "verify", "--practice", "north")
	m := regexp.MustCompile(`keep --head (\d+:[0-9a-f]{64})`).FindStringSubmatch(out)
	if code != 0 || m == nil {
		t.Fatalf("audit verify: %d\n%s", code, out)
	}
	kept := m[1]
	if code, out := servetest.RunCLI(t, bin, dir, env, "audit", "verify", "--practice", "north", "--head", kept); code != 0 ||
		!strings.Contains(out, "contains the kept head") {
		t.Fatalf("audit verify --head on the untouched chain: %d\n%s", code, out)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"audit", "verify", "--head", kept}, "--head needs --practice"},
		{[]string{"audit", "verify", "--practice", "north", "--head", "abc"}, "not SEQ:HASH"},
		{[]string{"audit", "verify", "--practice", "north", "--head", "3:xyz"}, "64 hexadecimal digits"},
	} {
		if code, out := servetest.RunCLI(t, bin, dir, env, tc.args...); code != 2 || !strings.Contains(out, tc.want) {
			t.Errorf("%v: exit %d, want 2 with %q\n%s", tc.args, code, tc.want, out)
		}
	}

	// What the security review did: delete the newest two rows and rewrite
	// the head row to the row now at the end.
	db, err := sql.Open("sqlite", filepath.Join(dir, "data", "frontdesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var practiceID string
	var seq int64
	if err := db.QueryRow(`SELECT chain_key, seq FROM audit_chain_heads h JOIN practices p ON p.id = h.chain_key
		WHERE p.slug = 'north'`).Scan(&practiceID, &seq); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`DELETE FROM audit_events WHERE practice_id = ? AND chain_seq > ?`, practiceID, seq-2); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE audit_chain_heads SET seq = ?, hash = (SELECT hash FROM audit_events
		WHERE practice_id = ? AND chain_seq = ?) WHERE chain_key = ?`, seq-2, practiceID, seq-2, practiceID); err != nil {
		t.Fatal(err)
	}
	if code, out := servetest.RunCLI(t, bin, dir, env, "audit", "verify", "--practice", "north"); code != 0 {
		t.Fatalf("without a kept head the truncation is not detectable (the documented limit); got %d\n%s", code, out)
	}
	code, out = servetest.RunCLI(t, bin, dir, env, "audit", "verify", "--practice", "north", "--head", kept)
	if code != 1 || !strings.Contains(out, `BROKEN practice "north"`) || !strings.Contains(out, "deleted from the end") {
		t.Errorf("audit verify --head after truncation: %d\n%s", code, out)
	}
}
