package browser

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/config"
	"github.com/frontdeskhq/frontdesk/identity/onboarding"
	"github.com/frontdeskhq/frontdesk/internal/testwait"
)

const (
	demoSecret = "demo-secret-0123456789abcdefghijklmnopqrstuv"
	ninaEmail  = "nina@sunrise.example"
	ninaPw     = "cobalt saddle origami twelve"
)

// startPracticeDemo builds cmd/practice-demo and runs it as a relying party
// of issuer on 127.0.0.1:port, reached as http://localhost:port. Its log goes
// to practice-demo.log in dir.
func startPracticeDemo(t *testing.T, dir, issuer string, port int) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "practice-demo")
	build := exec.Command("go", "build", "-o", bin, "./cmd/practice-demo")
	build.Dir = repoRoot(t)
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/practice-demo: %v\n%s", err, out)
	}
	logFile, err := os.Create(filepath.Join(dir, "practice-demo.log"))
	if err != nil {
		t.Fatal(err)
	}
	base := fmt.Sprintf("http://localhost:%d", port)
	cmd := exec.Command(bin, "--issuer", issuer, "--client-id", "practice-demo", "--practice", slug,
		"--listen", fmt.Sprintf("127.0.0.1:%d", port), "--public-url", base)
	cmd.Env = append(os.Environ(), "PRACTICE_DEMO_SECRET="+demoSecret)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		_ = logFile.Close()
	})
	hc := &http.Client{Timeout: time.Second}
	// practice-demo is another process: its readiness is checked every
	// 50 ms, until it serves, exits, or the hang guard before the test's
	// deadline.
	guard := testwait.Guard(t)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for gaveUp := false; !gaveUp; {
		if resp, err := hc.Get(base + "/"); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base
			}
		}
		select {
		case <-exited:
			log, _ := os.ReadFile(logFile.Name())
			t.Fatalf("practice-demo exited before serving:\n%s", log)
		case <-guard:
			gaveUp = true
		case <-tick.C:
		}
	}
	t.Fatal("practice-demo did not start")
	return ""
}

// addAuthenticator gives the tab a DevTools virtual authenticator: a
// platform authenticator (CTAP2, internal transport) that keeps discoverable
// credentials and verifies the user.
func (b *tab) addAuthenticator() webauthn.AuthenticatorID {
	b.t.Helper()
	ctx, cancel := context.WithCancel(b.ctx)
	defer cancel()
	if _, err := chromedp.Call(ctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
		b.fail("enable WebAuthn", err)
	}
	res, err := chromedp.Call(ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
		Options: &webauthn.VirtualAuthenticatorOptions{
			Protocol:                    webauthn.AuthenticatorProtocolCtap2,
			Ctap2version:                webauthn.Ctap2versionCtap21,
			Transport:                   webauthn.AuthenticatorTransportInternal,
			HasResidentKey:              true,
			HasUserVerification:         true,
			IsUserVerified:              true,
			AutomaticPresenceSimulation: true,
		}})
	if err != nil {
		b.fail("add a virtual authenticator", err)
	}
	return res.AuthenticatorID
}

// credentials lists the virtual authenticator's credentials.
func (b *tab) credentials(id webauthn.AuthenticatorID) []*webauthn.Credential {
	b.t.Helper()
	ctx, cancel := context.WithCancel(b.ctx)
	defer cancel()
	res, err := chromedp.Call(ctx, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: id})
	if err != nil {
		b.fail("read the authenticator's credentials", err)
	}
	return res.Credentials
}

// The passkey journey in a real browser with a virtual authenticator: accept
// an invitation from the mail, enrol a passkey, log out, then log in to
// practice-demo with the passkey alone (no email, no password) — issue 7,
// point 4.
func TestPasskeyJourneyIntoPracticeDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test; skipped with -short")
	}
	t.Parallel() // each test has its own frontdesk and browser
	axe := axeSource(t)
	chromiumPath(t)
	dir := artefacts(t)

	demoLn, demoPort := listenLoopback(t)
	_ = demoLn.Close() // practice-demo listens there itself
	demoBase := fmt.Sprintf("http://localhost:%d", demoPort)
	fd := startFrontdesk(t, dir, func(cfg *config.Config) {
		cfg.Clients = []config.Client{{ID: "practice-demo", Secret: demoSecret,
			RedirectURIs:           []string{demoBase + "/callback"},
			PostLogoutRedirectURIs: []string{demoBase + "/"},
			BackchannelLogoutURI:   demoBase + "/backchannel-logout"}}
	})
	fd.createPractice(t, slug, "Sunrise Therapy", ownerEmail, "Olive Owner", ownerPassword)
	startPracticeDemo(t, dir, fd.base, demoPort)

	if _, err := fd.app.Onboarding.Invite(context.Background(), slug, account.Operator(), onboarding.InviteRequest{
		Email: ninaEmail, Name: "Nina Practitioner", Roles: []string{"practitioner"}}, account.Meta{}); err != nil {
		t.Fatal(err)
	}
	link := lineWithPrefix(t, fd.mailText(t, ninaEmail, 1), fd.base+"/p/"+slug+"/invite?token=")

	b := newTab(t, dir, axe)
	auth := b.addAuthenticator()

	// Accept the invitation: choose a password.
	b.visit(link, "#new_password")
	b.pageDone("invitation")
	b.typeInto("#new_password", ninaPw)
	b.typeInto("#confirm_password", ninaPw)
	b.click(`main form button[type="submit"]`, "/p/"+slug+"/", "")

	// Enrol a passkey: on the step frontdesk offers right after accepting
	// when there is one (a visible "#passkey-add"), else from the account
	// page, or, from any other page, at /p/{practice}/passkeys directly.
	next := b.waitJS("the page after accepting", `(function () {
  var add = document.getElementById("passkey-add");
  if (add && add.offsetParent !== null) { return "enrol"; }
  if (document.getElementById("member-email")) { return "home"; }
  return document.querySelector("main h1") ? "other" : "";
})()`)
	b.pageDone("after-accepting")
	switch next {
	case "home":
		b.click("#passkeys-link", "/p/"+slug+"/passkeys", "#passkey-add")
	case "other":
		b.visit(fd.base+"/p/"+slug+"/passkeys", "#passkey-add")
	}
	b.pageDone("passkey-offer")
	b.typeInto("#passkey-name", "Front desk laptop")
	b.click("#passkey-add", "/p/"+slug+"/", "main h1")
	b.pageDone("passkey-added")
	creds := b.credentials(auth)
	if len(creds) != 1 || !creds[0].IsResidentCredential || creds[0].RpID != "localhost" {
		t.Fatalf("the authenticator holds %d credential(s), want one discoverable credential for localhost: %+v", len(creds), creds)
	}
	if next != "enrol" {
		if list := b.text("#passkey-list"); !strings.Contains(list, "Front desk laptop") {
			t.Errorf("the passkeys list does not show the new passkey:\n%s", list)
		}
	}

	// Log out of frontdesk.
	b.visit(fd.base+"/p/"+slug+"/", "#member-email")
	b.click(`form[action$="/logout"] button`, "/p/"+slug+"/login", "#password")
	b.pageDone("logged-out")

	// Log in to practice-demo with the passkey only.
	b.visit(demoBase+"/", "h1")
	if got := b.text("main, body"); !strings.Contains(got, "not logged in") {
		t.Fatalf("practice-demo before logging in:\n%s", got)
	}
	b.screenshot("practice-demo-signed-out")
	b.click(`a[href="/login"]`, "/p/"+slug+"/login", "#passkey-login-button")
	b.pageDone("login-for-practice-demo")
	if email := b.waitJS("the email field", `document.getElementById("email").value === "" ? "empty" : "typed"`); email != "empty" {
		t.Fatal("the email field is not empty: the login must not need it")
	}
	b.click("#passkey-login-button", demoBase+"/", "h1")
	b.screenshot("practice-demo-signed-in")
	home := b.text("body")
	if !strings.Contains(home, "Logged in as Nina Practitioner") {
		t.Fatalf("practice-demo after the passkey login:\n%s", home)
	}
	if !strings.Contains(home, "Signed in with:") || !strings.Contains(home, "hwk") || strings.Contains(home, "pwd") {
		t.Errorf("the ID token's amr should say hwk (and not pwd):\n%s", home)
	}
	if creds := b.credentials(auth); len(creds) != 1 || creds[0].SignCount < 1 {
		t.Errorf("the passkey was not used to sign in: %+v", creds)
	}
	// A guarded page of the demo works with the passkey session's token.
	b.click(`a[href="/schedule"]`, demoBase+"/schedule", "h1")
	if got := b.text("body"); !strings.Contains(got, "your role allows this page") {
		t.Errorf("practice-demo /schedule after the passkey login:\n%s", got)
	}
	b.screenshot("practice-demo-schedule")
}
