// Package browser holds frontdesk's tests in a real browser: Debian's headless
// Chromium driven over the DevTools protocol (github.com/chromedp/chromedp)
// against the real service on a loopback port, with a real SMTP sink for the
// mail. They click and type as a person would, check every page they visit
// with axe-core, and keep a screenshot of each step under
// testdata-artifacts/browser/ (gitignored).
//
// scripts/services.sh (run by `make test`) installs Chromium and axe-core.
// Without them the tests skip, except in CI (CI=true), where they fail. The
// package has only tests; see docs/operations.md, "Browser tests".
package browser
