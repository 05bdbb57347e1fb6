package main

// End-to-end: the operator revokes a member's passkeys (frontdesk admin
// revoke-passkeys) and sets a practice's login policy (frontdesk practice
// policy) against the real binary while it serves, on the embedded default.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/frontdeskhq/frontdesk/identity/passkeys/passkeystest"
	"github.com/frontdeskhq/frontdesk/internal/servetest"
)

// postJSON posts body as the page's script does (same-origin fetch).
func (b *browser) postJSON(path string, body []byte) (int, map[string]json.RawMessage) {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.base+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", b.base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]json.RawMessage
	if err := json.Unmarshal(raw, &out); err != nil {
		b.t.Fatalf("POST %s: %d, not JSON: %s", path, resp.StatusCode, raw)
	}
	return resp.StatusCode, out
}

func jsonString(m map[string]json.RawMessage, k string) string {
	var v string
	_ = json.Unmarshal(m[k], &v)
	return v
}

// enrolPasskey registers a passkey for the signed-in browser b.
func enrolPasskey(b *browser, a *passkeystest.Authenticator) int {
	b.t.Helper()
	status, begin := b.postJSON("/p/demo/passkeys/register/begin", []byte(`{}`))
	if status != http.StatusOK {
		return status
	}
	status, _ = b.postJSON("/p/demo/passkeys/register/finish?ceremony="+url.QueryEscape(jsonString(begin, "ceremony")),
		a.Create(begin["options"]))
	return status
}

// passkeyLogin logs b in with a's passkey and returns the finish status.
func passkeyLogin(b *browser, a *passkeystest.Authenticator) int {
	b.t.Helper()
	status, begin := b.postJSON("/p/demo/passkeys/login/begin", []byte(`{}`))
	if status != http.StatusOK {
		b.t.Fatalf("passkey login begin: %d", status)
	}
	status, _ = b.postJSON("/p/demo/passkeys/login/finish?ceremony="+url.QueryEscape(jsonString(begin, "ceremony")),
		a.Get(begin["options"]))
	return status
}

func TestEndToEndPasskeyRevocationAndLoginPolicy(t *testing.T) {
	bin := frontdeskBinary.Path(t)
	dir := t.TempDir()
	port := servetest.FreePort(t)
	base := fmt.Sprintf("http://localhost:%d", port)
	env := servetest.CleanEnv("FRONTDESK_SERVER_LISTEN="+fmt.Sprintf("127.0.0.1:%d", port), "FRONTDESK_SERVER_PUBLIC_URL="+base)
	p := servetest.Serve(t, bin, dir, env)
	defer p.Stop()
	owner, page := setUpOwner(t, p, base)
	mustRun := func(args ...string) string {
		t.Helper()
		code, out := servetest.RunCLI(t, bin, dir, env, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d\n%s", args, code, out)
		}
		return out
	}

	// The owner logs in with the password and adds a passkey (fresh login).
	status, _, body := postLogin(owner, page, "demo", "owner@demo.example", ownerPassword)
	if status != http.StatusOK || !strings.Contains(body, "You have been signed in") {
		t.Fatalf("password login: %d\n%s", status, body)
	}
	a := passkeystest.New(base, "localhost")
	if status := enrolPasskey(owner, a); status != http.StatusOK {
		t.Fatalf("enrol: %d", status)
	}
	device := newBrowser(t, base)
	if status := passkeyLogin(device, a); status != http.StatusOK {
		t.Fatalf("passkey login: %d", status)
	}
	if status, body := device.get("/p/demo/"); status != http.StatusOK || !strings.Contains(body, "(passkey)") {
		t.Fatalf("home after passkey login: %d", status)
	}

	// The login policy: owners must use a passkey or SSO.
	for _, tt := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no practice flag", []string{"practice", "policy"}, 2, "--practice is required"},
		{"unknown role", []string{"practice", "policy", "--practice", "demo", "--require-strong-login", "wizard"}, 2, "not a role of this practice"},
		{"both", []string{"practice", "policy", "--practice", "demo", "--require-strong-login", "owner", "--clear"}, 2, "not both"},
		{"unknown practice", []string{"practice", "policy", "--practice", "nowhere"}, 1, `no practice has the slug "nowhere"`},
		{"show empty", []string{"practice", "policy", "--practice", "demo"}, 0, "every role may log in with a password"},
		{"set", []string{"practice", "policy", "--practice", "demo", "--require-strong-login", "owner,biller"}, 0, "holding biller, owner must log in with a passkey"},
	} {
		if code, out := servetest.RunCLI(t, bin, dir, env, tt.args...); code != tt.code || !strings.Contains(out, tt.want) {
			t.Errorf("%s: exit %d, want %d mentioning %q:\n%s", tt.name, code, tt.code, tt.want, out)
		}
	}
	var lp struct {
		Roles []string `json:"require_strong_login"`
		By    string   `json:"updated_by"`
	}
	line := ""
	for l := range strings.Lines(mustRun("practice", "policy", "--practice", "demo", "--json")) {
		if strings.HasPrefix(l, "{\"require") {
			line = l
		}
	}
	if err := json.Unmarshal([]byte(line), &lp); err != nil ||
		strings.Join(lp.Roles, ",") != "biller,owner" || lp.By != "operator" {
		t.Errorf("policy --json = %+v (%v)", lp, err)
	}
	// The owner's password alone no longer logs in; the passkey does.
	fresh := newBrowser(t, base)
	_, page = fresh.get("/p/demo/login")
	status, _, body = postLogin(fresh, page, "demo", "owner@demo.example", ownerPassword)
	if status != http.StatusForbidden || !strings.Contains(body, "passkey or single sign-on") {
		t.Fatalf("password login under the policy: %d\n%s", status, body)
	}
	if status, _, _ := postLogin(fresh, page, "demo", "owner@demo.example", ownerPassword+" nope"); status != http.StatusUnauthorized {
		t.Errorf("wrong password under the policy: %d", status)
	}
	if status := passkeyLogin(fresh, a); status != http.StatusOK {
		t.Errorf("passkey login under the policy: %d", status)
	}

	// Revocation.
	if code, out := servetest.RunCLI(t, bin, dir, env, "admin", "revoke-passkeys", "--practice", "demo"); code != 2 || !strings.Contains(out, "--email is required") {
		t.Errorf("revoke without --email: %d %s", code, out)
	}
	if code, out := servetest.RunCLI(t, bin, dir, env, "admin", "revoke-passkeys", "--practice", "demo", "--email", "nobody@demo.example"); code != 1 || !strings.Contains(out, "no member") {
		t.Errorf("revoke for an unknown member: %d %s", code, out)
	}
	if out := mustRun("admin", "revoke-passkeys", "--practice", "demo", "--email", "OWNER@demo.example"); !strings.Contains(out, "Revoked 1 passkey(s) of owner@demo.example") {
		t.Errorf("revoke: %s", out)
	}
	// The passkey stops working and the sessions it opened are over.
	if status := passkeyLogin(newBrowser(t, base), a); status != http.StatusUnauthorized {
		t.Errorf("login with a revoked passkey: %d", status)
	}
	if status, body := device.get("/p/demo/"); status != http.StatusOK || !strings.Contains(body, `name="password"`) {
		t.Errorf("session of the revoked passkey: %d", status)
	}
	// Under the policy, with no passkey left, the password leads to adding one.
	again := newBrowser(t, base)
	_, page = again.get("/p/demo/login")
	status, _, body = postLogin(again, page, "demo", "owner@demo.example", ownerPassword)
	if status != http.StatusOK || !strings.Contains(body, "requires a passkey for your role") || !strings.Contains(body, `id="passkey-register"`) {
		t.Fatalf("password login with no passkey under the policy: %d\n%s", status, body)
	}

	// Both changes are in the audit trail, the policy with before and after.
	out := mustRun("audit", "export", "--practice", "demo", "--action", "passkey.revoke_all")
	if !strings.Contains(out, `"actor_id":"operator"`) || !strings.Contains(out, `"removed":"1"`) {
		t.Errorf("revocation audit:\n%s", out)
	}
	out = mustRun("audit", "export", "--practice", "demo", "--action", "practice.login_policy")
	if !strings.Contains(out, `"require_strong_login_after":"biller,owner"`) || !strings.Contains(out, `"require_strong_login_before":""`) {
		t.Errorf("policy audit:\n%s", out)
	}
}
