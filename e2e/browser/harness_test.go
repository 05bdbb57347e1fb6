package browser

// The harness: the real frontdesk (identity/app, the same assembly as
// `frontdesk serve`) on a loopback port, a real SMTP sink, and one headless
// Chromium tab with helpers that wait explicitly, take screenshots and run
// axe-core.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/frontdeskhq/frontdesk/identity/account"
	fdapp "github.com/frontdeskhq/frontdesk/identity/app"
	"github.com/frontdeskhq/frontdesk/identity/app/apptest"
	"github.com/frontdeskhq/frontdesk/identity/config"
	"github.com/frontdeskhq/frontdesk/internal/testenv"
	"github.com/frontdeskhq/frontdesk/internal/testwait"
	"github.com/frontdeskhq/frontdesk/invites/smtptest"
)

// Time limit: none of the machine's speed. A test's browser lives until its
// hang guard (testwait.At: a tenth of the remaining time before the test's
// deadline), after which Chromium is stopped; a step waits for its event
// within that.

// missing skips the test with why, or fails it in CI (CI=true).
func missing(t *testing.T, why string) {
	t.Helper()
	testenv.Missing(t, "browser test", why, "")
}

// repoRoot is the directory of go.mod above the test's working directory.
func repoRoot(t *testing.T) string { return testenv.RepoRoot(t) }

// chromiumPath finds Debian's chromium (or E2E_CHROMIUM).
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("E2E_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	missing(t, "Chromium is not installed; run `make services` (scripts/services.sh installs Debian's chromium)")
	return ""
}

// axeSource reads axe-core's axe.min.js, installed by scripts/services.sh
// into .cache/npm (or E2E_AXE_JS).
func axeSource(t *testing.T) string {
	t.Helper()
	p := os.Getenv("E2E_AXE_JS")
	if p == "" {
		p = filepath.Join(repoRoot(t), ".cache", "npm", "node_modules", "axe-core", "axe.min.js")
	}
	src, err := os.ReadFile(p)
	if err != nil {
		missing(t, fmt.Sprintf("axe-core is not installed (%v); run `make services` (scripts/services.sh installs it into .cache/npm)", err))
	}
	return string(src)
}

// artefacts makes (empty) testdata-artifacts/browser/<test> and logs it.
func artefacts(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(repoRoot(t), "testdata-artifacts", "browser", t.Name())
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots and logs of this test: %s", dir)
	return dir
}

// frontdesk is a running frontdesk (apptest) with its mail sink.
type frontdesk struct {
	app  *fdapp.App
	base string // http://localhost:PORT, the issuer and WebAuthn origin
	smtp *smtptest.Server
	kit  *apptest.Frontdesk
}

// listenLoopback reserves a loopback port.
func listenLoopback(t *testing.T) (net.Listener, int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln, ln.Addr().(*net.TCPAddr).Port
}

// startFrontdesk assembles frontdesk (apptest) on SQLite in a temporary
// directory, serving http://localhost:PORT (so the WebAuthn relying party is
// "localhost", a secure context for the browser) and mailing through a real
// SMTP server. edit may adjust the configuration (for example clients). The
// log goes to frontdesk.log in dir.
func startFrontdesk(t *testing.T, dir string, edit func(*config.Config)) *frontdesk {
	t.Helper()
	ln, _ := listenLoopback(t)
	logFile, err := os.Create(filepath.Join(dir, "frontdesk.log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = logFile.Close() })
	kit := apptest.New(t, apptest.Listen(ln), apptest.SMTP(), apptest.Log(logFile, slog.LevelDebug),
		apptest.Configure(func(cfg *config.Config) {
			// No registered apps but those edit adds; keys as the default has them.
			cfg.Clients, cfg.AdminAPI.Clients, cfg.OIDC.MasterKey = nil, nil, ""
			cfg.Log.Level = config.Default().Log.Level
			cfg.Passwords.Argon2MemoryKiB, cfg.Passwords.Argon2Iterations = 7168, 5 // fast, still argon2id
			if edit != nil {
				edit(cfg)
			}
		}))
	return &frontdesk{app: kit.App, base: kit.URL, smtp: kit.SMTP, kit: kit}
}

// createPractice creates a practice (therapynotes roles) whose owner has
// chosen ownerPassword.
func (f *frontdesk) createPractice(t *testing.T, slug, name, ownerEmail, ownerName, ownerPassword string) {
	t.Helper()
	f.kit.CreatePracticeWith(account.NewPractice{Slug: slug, Name: name, OwnerEmail: ownerEmail, OwnerName: ownerName},
		ownerPassword)
}

// mailText waits for the n-th message to to and returns its text part; the
// only bound is the test's deadline (a hang guard).
func (f *frontdesk) mailText(t *testing.T, to string, n int) string {
	t.Helper()
	text, err := f.smtp.WaitTo(to, n).Part("text/plain") // wakes at each arrival
	if err != nil {
		t.Fatal(err)
	}
	return text
}

// lineWithPrefix is the first line of text starting with prefix.
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

// tab is one headless Chromium tab at a laptop's viewport (1280×800).
type tab struct {
	t    *testing.T
	ctx  context.Context
	dir  string // artefacts
	axe  string // axe.min.js
	shot int    // screenshots taken
}

// newTab starts Chromium with the flags this machine needs (no network
// besides loopback: no background networking, component updates, sync or
// QUIC) and a fresh profile, and opens a tab.
func newTab(t *testing.T, dir, axe string) *tab {
	t.Helper()
	profile, err := os.MkdirTemp("", "frontdesk-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 800),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-features", "Translate,OptimizationHints,MediaRouter,AutofillServerCommunication"),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("use-mock-keychain", true),
		chromedp.Flag("enable-automation", true),
	}
	if os.Geteuid() == 0 {
		// Chromium refuses to start its sandbox as root. The browser only
		// ever visits the test's own loopback servers.
		opts = append(opts, chromedp.NoSandbox)
	}
	guard, stop := context.WithDeadline(context.Background(), testwait.At(t))
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(guard, opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
		stop()
		_ = os.RemoveAll(profile)
	})
	// The first run starts the browser and binds its life to the context it
	// gets: the tab's own (bounded by the hang guard), not a step's.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	b := &tab{t: t, ctx: ctx, dir: dir, axe: axe}
	b.do("set a laptop's viewport", chromedp.EmulateViewport(1280, 800))
	return b
}

// do runs actions with the step timeout, failing the test on error.
func (b *tab) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithCancel(b.ctx)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.fail(what, err)
	}
}

// fail saves a screenshot of the failure and stops the test.
func (b *tab) fail(what string, err error) {
	b.t.Helper()
	if buf, serr := b.capture(); serr == nil {
		_ = os.WriteFile(filepath.Join(b.dir, "failure.png"), buf, 0o644)
	}
	loc, _ := b.location()
	b.t.Fatalf("%s (at %s): %v", what, loc, err)
}

func (b *tab) capture() ([]byte, error) {
	ctx, cancel := context.WithCancel(b.ctx)
	defer cancel()
	return chromedp.Run(ctx, chromedp.FullScreenshot(100))
}

func (b *tab) location() (string, error) {
	ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Location())
}

// visit opens a page and waits until sel is visible.
func (b *tab) visit(u, sel string) {
	b.t.Helper()
	b.do("open "+u, chromedp.Navigate(u), chromedp.WaitVisible(chromedp.CSS(sel)))
}

// typeInto replaces the value of the field sel with text, typed key by key.
func (b *tab) typeInto(sel, text string) {
	b.t.Helper()
	b.do("type into "+sel, chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.Clear(chromedp.CSS(sel)),
		chromedp.SendKeys(chromedp.CSS(sel), text))
}

// click clicks sel. With urlPart, the click must lead to a new page whose URL
// contains urlPart: it waits until the old document is gone and the new one
// has loaded. With next, it then waits until next is visible.
func (b *tab) click(sel, urlPart, next string) {
	b.t.Helper()
	if urlPart != "" {
		b.do("mark the page", chromedp.Evaluate[chromedp.Void](`window.__frontdeskOldPage = true`))
	}
	b.do("click "+sel, chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.Click(chromedp.CSS(sel)))
	if urlPart != "" {
		b.waitPage(urlPart)
	}
	if next != "" {
		b.do("wait for "+next+" after clicking "+sel, chromedp.WaitVisible(chromedp.CSS(next)))
	}
}

// keyboardTo presses Tab until the focused element matches sel (at most 40
// times): sel must be reachable with the keyboard alone.
func (b *tab) keyboardTo(sel string) {
	b.t.Helper()
	for range 40 {
		b.do("press Tab", chromedp.KeyEvent(kb.Tab))
		ctx, cancel := context.WithCancel(b.ctx)
		on, err := chromedp.Run(ctx, chromedp.Evaluate[bool](
			`document.activeElement !== null && document.activeElement.matches(`+jsString(sel)+`)`))
		cancel()
		if err != nil {
			b.fail("read the focus", err)
		}
		if on {
			return
		}
	}
	b.fail("reach "+sel+" with the Tab key", errors.New("40 presses did not get there"))
}

// pressEnter presses Enter on the focused element; with urlPart it must lead
// to a new page there (see click).
func (b *tab) pressEnter(urlPart string) {
	b.t.Helper()
	b.do("mark the page", chromedp.Evaluate[chromedp.Void](`window.__frontdeskOldPage = true`))
	b.do("press Enter", chromedp.KeyEvent(kb.Enter))
	b.waitPage(urlPart)
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "<", `\x3c`)
	return `"` + r.Replace(s) + `"`
}

// waitPage waits until the marked page was replaced by a loaded one whose
// URL contains part.
func (b *tab) waitPage(part string) {
	b.t.Helper()
	loc := b.waitJS("a new page at "+part,
		`(!window.__frontdeskOldPage && document.readyState === "complete") ? location.href : ""`)
	if !strings.Contains(loc, part) {
		b.fail("wait for a page at "+part, fmt.Errorf("landed at %s", loc))
	}
}

// waitJS evaluates expr (a JavaScript expression giving a string) until it
// gives a non-empty string, and returns that. It is used where the next page
// may be one of several; it evaluates through the DevTools protocol, so the
// pages' Content-Security-Policy (no eval) does not get in the way.
func (b *tab) waitJS(what, expr string) string {
	b.t.Helper()
	var lastErr error
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		s, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](expr))
		if err == nil && s != "" {
			return s
		}
		lastErr = err
		if b.ctx.Err() != nil {
			break
		}
		select {
		case <-b.ctx.Done():
		case <-tick.C:
		}
	}
	b.fail("wait for "+what, fmt.Errorf("gave nothing (last error: %v)", lastErr))
	return ""
}

// text is the visible text of sel.
func (b *tab) text(sel string) string {
	b.t.Helper()
	ctx, cancel := context.WithCancel(b.ctx)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.fail("read "+sel, err)
	}
	return s
}

// screenshot saves the whole page as NN-name.png.
func (b *tab) screenshot(name string) {
	b.t.Helper()
	buf, err := b.capture()
	if err != nil {
		b.fail("screenshot "+name, err)
	}
	b.shot++
	p := filepath.Join(b.dir, fmt.Sprintf("%02d-%s.png", b.shot, name))
	if err := os.WriteFile(p, buf, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// axeViolation is one failed axe-core rule.
type axeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// axeRun runs axe-core's rules on the current page.
const axeRun = `axe.run(document, {resultTypes: ["violations"]}).then(function (r) {
  return JSON.stringify({version: axe.version, passed: r.passes.length, violations: r.violations.map(function (v) {
    return {id: v.id, impact: v.impact || "", help: v.help,
      nodes: v.nodes.map(function (n) { return n.target.join(" ") + ": " + (n.failureSummary || "").replace(/\s+/g, " "); })};
  })});
})`

// axeCheck runs axe-core on the current page (its source injected through
// the DevTools protocol) and returns the violated rules.
func (b *tab) axeCheck(page string) []axeViolation {
	b.t.Helper()
	start := time.Now()
	ctx, cancel := context.WithCancel(b.ctx)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](b.axe+"\n;undefined")); err != nil {
		b.fail("inject axe-core into "+page, err)
	}
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](axeRun, chromedp.EvalAwaitPromise))
	if err != nil {
		b.fail("run axe-core on "+page, err)
	}
	var res struct {
		Version    string         `json:"version"`
		Passed     int            `json:"passed"`
		Violations []axeViolation `json:"violations"`
	}
	if err := json.Unmarshal([]byte(raw), &res); err != nil {
		b.t.Fatalf("axe-core result on %s: %v", page, err)
	}
	if res.Passed == 0 {
		b.t.Fatalf("axe-core %s checked nothing on %s", res.Version, page)
	}
	b.t.Logf("axe-core %s on %s: %d rules passed, %d violated (%s)", res.Version, page, res.Passed, len(res.Violations),
		time.Since(start).Round(time.Millisecond))
	return res.Violations
}

// checkA11y fails the test on every serious or critical axe-core violation
// of the current page, listing them; lesser ones are logged.
func (b *tab) checkA11y(page string) {
	b.t.Helper()
	for _, v := range b.axeCheck(page) {
		msg := fmt.Sprintf("axe-core on %s: %s (%s): %s\n  %s", page, v.ID, v.Impact, v.Help, strings.Join(v.Nodes, "\n  "))
		if blocking(v) {
			b.t.Error(msg)
		} else {
			b.t.Log(msg)
		}
	}
}

// blocking says whether a violation fails the test.
func blocking(v axeViolation) bool { return v.Impact == "serious" || v.Impact == "critical" }

// pageDone takes the step's screenshot and checks its accessibility.
func (b *tab) pageDone(name string) {
	b.t.Helper()
	b.screenshot(name)
	b.checkA11y(name)
}
