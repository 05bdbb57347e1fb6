package main

// End-to-end onboarding by email: the real binary delivers through a real
// SMTP server. The operator invites with `frontdesk admin invite`, the
// invitee follows the emailed link and lands signed in; the operator issues a
// temporary password, which leads only to choosing a new one.

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/frontdeskhq/frontdesk/internal/servetest"
	"github.com/frontdeskhq/frontdesk/invites/smtptest"
)

func mailText(t *testing.T, srv *smtptest.Server, to string, n int) string {
	t.Helper()
	text, err := srv.WaitTo(to, n).Part("text/plain") // wakes at each arrival; the test's deadline is the hang guard
	if err != nil {
		t.Fatal(err)
	}
	return text
}

func lineWithPrefix(t *testing.T, text, prefix string) string {
	t.Helper()
	for line := range strings.Lines(text) {
		if line = strings.TrimSpace(line); strings.HasPrefix(line, prefix) {
			return line
		}
	}
	t.Fatalf("no line starting %q in:\n%s", prefix, text)
	return ""
}

func TestEndToEndOnboardingBySMTP(t *testing.T) {
	bin := frontdeskBinary.Path(t)
	dir := t.TempDir()
	smtp := smtptest.Start(t, smtptest.Options{})
	port := servetest.FreePort(t)
	base := fmt.Sprintf("http://localhost:%d", port)
	env := servetest.CleanEnv("FRONTDESK_SERVER_LISTEN="+fmt.Sprintf("127.0.0.1:%d", port), "FRONTDESK_SERVER_PUBLIC_URL="+base,
		"FRONTDESK_MAIL_TRANSPORT=smtp", "FRONTDESK_MAIL_SMTP_HOST=127.0.0.1",
		fmt.Sprintf("FRONTDESK_MAIL_SMTP_PORT=%d", smtp.Port()), "FRONTDESK_MAIL_SMTP_TLS=none",
		"FRONTDESK_MAIL_RETRY_BACKOFF=1s", "FRONTDESK_MAIL_POLL_INTERVAL=100ms")
	p := servetest.Serve(t, bin, dir, env)
	defer p.Stop()

	// The owner's setup link (mailed directly) opens the practice.
	setupLink := lineWithPrefix(t, mailText(t, smtp, "owner@demo.example", 1), base+"/p/demo/setup?token=")
	owner := newBrowser(t, base)
	_, page := owner.get(setupLink)
	if status, page := owner.submit(page, "/p/demo/setup", url.Values{"new_password": {ownerPassword},
		"confirm_password": {ownerPassword}}); status != 200 || !strings.Contains(page, "You have been signed in") {
		t.Fatalf("setup: %d\n%s", status, page)
	}

	code, out := servetest.RunCLI(t, bin, dir, env, "admin", "invite", "--practice", "demo", "--email", "nina@example.org",
		"--role", "practitioner", "--role", "supervisor", "--json")
	if code != 0 {
		t.Fatalf("admin invite: exit %d\n%s", code, out)
	}
	var inv struct {
		ID    string   `json:"invitation_id"`
		Roles []string `json:"roles"`
		State string   `json:"state"`
	}
	if err := json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &inv); err != nil || inv.ID == "" || len(inv.Roles) != 2 {
		t.Fatalf("admin invite --json: %v\n%s", err, out)
	}
	if strings.Contains(out, "token=") {
		t.Error("the operator saw the invitation link")
	}
	// Inviting the pending address again changes nothing without
	// --update-pending (walkthrough finding 6).
	code, out = servetest.RunCLI(t, bin, dir, env, "admin", "invite", "--practice", "demo", "--email", "nina@example.org", "--role", "biller")
	if code == 0 || !strings.Contains(out, "already has a pending invitation as practitioner, supervisor") ||
		!strings.Contains(out, "--update-pending") {
		t.Errorf("re-invite of a pending address: exit %d\n%s", code, out)
	}
	link := lineWithPrefix(t, mailText(t, smtp, "nina@example.org", 1), base+"/p/demo/invite?token=")
	nina := newBrowser(t, base)
	status, page := nina.get(link)
	if status != 200 || !strings.Contains(page, "nina@example.org") {
		t.Fatalf("invitation page: %d\n%s", status, page)
	}
	const ninaPassword = "amber trellis wander ninety two"
	status, page = nina.submit(page, "/p/demo/invite", url.Values{"new_password": {ninaPassword}, "confirm_password": {ninaPassword}})
	// A passkey is offered first; "Not now" continues without JavaScript.
	if status != 200 || !strings.Contains(page, "Add a passkey?") {
		t.Fatalf("after accepting, the passkey step: %d\n%s", status, page)
	}
	status, page = nina.submit(page, "/p/demo/add-passkey/continue", nil)
	if status != 200 || !strings.Contains(page, "You have been signed in") || !strings.Contains(page, "nina@example.org") {
		t.Fatalf("after accepting: %d\n%s", status, page)
	}
	// The owner (the operator invited) is not notified; inviting again is refused.
	code, out = servetest.RunCLI(t, bin, dir, env, "admin", "invite", "--practice", "demo", "--email", "NINA@example.org", "--role", "practitioner")
	if code == 0 || !strings.Contains(out, "already belongs to an active member") {
		t.Errorf("re-invite: exit %d\n%s", code, out)
	}

	code, out = servetest.RunCLI(t, bin, dir, env, "admin", "temporary-password", "--practice", "demo", "--email", "nina@example.org")
	if code != 0 {
		t.Fatalf("admin temporary-password: exit %d\n%s", code, out)
	}
	temp := strings.TrimPrefix(lineWithPrefix(t, mailText(t, smtp, "nina@example.org", 2), "Temporary password: "), "Temporary password: ")
	if strings.Contains(out, temp) {
		t.Error("the operator saw the temporary password")
	}
	b := newBrowser(t, base)
	_, page = b.get("/p/demo/login")
	status, page = b.submit(page, "/p/demo/login", url.Values{"email": {"nina@example.org"}, "password": {temp}})
	if status != 200 || !strings.Contains(page, "temporary password") || !strings.Contains(page, `action="/p/demo/new-password"`) {
		t.Fatalf("temporary login: %d\n%s", status, page)
	}
	if _, home := b.get("/p/demo/"); strings.Contains(home, "You have been signed in") {
		t.Fatal("a temporary-password session reached the home page")
	}
	const next = "cobalt saddle origami twelve"
	status, page = b.submit(page, "/p/demo/new-password", url.Values{"new_password": {next}, "confirm_password": {next}})
	if status != 200 || !strings.Contains(page, "Add a passkey?") {
		t.Fatalf("after choosing a password, the passkey step: %d\n%s", status, page)
	}
	status, page = b.submit(page, "/p/demo/add-passkey/continue", nil)
	if status != 200 || !strings.Contains(page, "You have been signed in") {
		t.Fatalf("after choosing a password: %d\n%s", status, page)
	}
}
