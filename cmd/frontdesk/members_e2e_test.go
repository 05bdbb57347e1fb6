package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/frontdeskhq/frontdesk/internal/servetest"
)

// TestOperatorMemberCommands: practice list, admin members and admin
// deactivate against the real binary on the embedded default.
func TestOperatorMemberCommands(t *testing.T) {
	bin := frontdeskBinary.Path(t)
	dir := t.TempDir()
	env := servetest.CleanEnv("FRONTDESK_BOOTSTRAP_DEMO=false")
	mustRun := func(args ...string) string {
		t.Helper()
		code, out := servetest.RunCLI(t, bin, dir, env, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d\n%s", args, code, out)
		}
		return out
	}
	mustRun("practice", "create", "--slug", "sunrise", "--name", "Sunrise Therapy", "--owner-email", "olive@example.org")
	mustRun("admin", "invite", "--practice", "sunrise", "--email", "nina@example.org", "--role", "practitioner")

	if out := mustRun("practice", "list"); !strings.Contains(out, "sunrise") || !strings.Contains(out, "Sunrise Therapy") {
		t.Errorf("practice list:\n%s", out)
	}
	out := mustRun("admin", "members", "--practice", "sunrise", "--status", "invited", "--json")
	var emails []string
	for line := range strings.Lines(out) {
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var m struct {
			Email  string `json:"email"`
			Status string `json:"status"`
		}
		if err := json.Unmarshal([]byte(line), &m); err != nil || m.Status != "invited" {
			t.Fatalf("member line %q: %v", line, err)
		}
		emails = append(emails, m.Email)
	}
	if strings.Join(emails, " ") != "nina@example.org olive@example.org" {
		t.Errorf("invited members = %v", emails)
	}

	if out := mustRun("admin", "deactivate", "--practice", "sunrise", "--email", "nina@example.org"); !strings.Contains(out, "Deactivated nina@example.org") {
		t.Errorf("deactivate:\n%s", out)
	}
	if out := mustRun("admin", "members", "--practice", "sunrise", "--status", "deactivated"); !strings.Contains(out, "nina@example.org") || strings.Contains(out, "olive@") {
		t.Errorf("deactivated members:\n%s", out)
	}

	tests := []struct {
		name string
		args []string
		want string
	}{
		{"deactivate twice", []string{"admin", "deactivate", "--practice", "sunrise", "--email", "nina@example.org"}, "already deactivated"},
		{"last manager", []string{"admin", "deactivate", "--practice", "sunrise", "--email", "olive@example.org"}, "last member who can manage"},
		{"unknown practice", []string{"admin", "members", "--practice", "nowhere"}, `no practice has the slug "nowhere"`},
		{"unknown member", []string{"admin", "deactivate", "--practice", "sunrise", "--email", "zed@example.org"}, "no member with the email"},
		{"bad status", []string{"admin", "members", "--practice", "sunrise", "--status", "asleep"}, "--status must be"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out := servetest.RunCLI(t, bin, dir, env, tt.args...)
			if code == 0 || !strings.Contains(out, tt.want) {
				t.Errorf("exit %d, want failure mentioning %q:\n%s", code, tt.want, out)
			}
		})
	}
}
