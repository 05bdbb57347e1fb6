package main

import (
	"bytes"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/internal/servetest"
	"github.com/frontdeskhq/frontdesk/internal/testwait"
)

// frontdesk-bench runs its token scenarios against the real server to the
// end: every request answered 200, none in error, the summary printed. The
// refresh scenario first completes an account setup link and logs in through
// the code flow, so this also covers the tool's login path.
func TestBenchTokenScenarios(t *testing.T) {
	bin := frontdeskBinary.Path(t)
	dir := t.TempDir()
	port := servetest.FreePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	const secret = "bench-test-secret-0123456789"
	cfgFile := filepath.Join(dir, "frontdesk.yaml")
	if err := os.WriteFile(cfgFile, []byte(`clients:
  - id: "bench"
    secret: "`+secret+`"
    redirect_uris: ["http://127.0.0.1:9/callback"]
    grant_types: ["authorization_code", "refresh_token", "client_credentials"]
    scopes: ["openid", "offline_access"]
`), 0o600); err != nil {
		t.Fatal(err)
	}
	env := servetest.CleanEnv("FRONTDESK_SERVER_LISTEN="+fmt.Sprintf("127.0.0.1:%d", port), "FRONTDESK_SERVER_PUBLIC_URL="+base,
		"FRONTDESK_DATA_DIR="+filepath.Join(dir, "data"))
	code, out := servetest.RunCLI(t, bin, dir, env, "practice", "create", "--config", cfgFile, "--slug", "bench0", "--name", "Bench",
		"--owner-email", "owner@bench0.example", "--json")
	if code != 0 {
		t.Fatalf("practice create: %d\n%s", code, out)
	}
	_, rest, _ := strings.Cut(out, `"setup_url":"`)
	setupURL, _, _ := strings.Cut(rest, `"`)
	if !strings.HasPrefix(setupURL, base+"/p/bench0/setup?token=") {
		t.Fatalf("no setup link in %s", out)
	}
	p := servetest.Serve(t, bin, dir, env, "--config", cfgFile)

	benchEnv := []string{"FDBENCH_PASSWORD=" + ownerPassword, "FDBENCH_CLIENT_SECRET=" + secret}
	common := []string{"--progress=false", "--target", base, "--practice", "bench0", "--email", "owner@bench0.example", "--n", "60", "-c", "4"}
	for _, tc := range []struct {
		scenario string
		extra    []string
	}{
		{"client-credentials", nil},
		{"refresh", []string{"--setup-url", setupURL}},
	} {
		t.Run(tc.scenario, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			args := append(append([]string{"--scenario", tc.scenario}, common...), tc.extra...)
			if code := run(t.Context(), args, &stdout, &stderr, benchEnv); code != 0 {
				t.Fatalf("bench exit %d\nstdout: %s\nstderr: %s", code, stdout.String(), stderr.String())
			}
			got := stdout.String()
			for _, want := range []string{`statuses\s+200×60\n`, `errors\s+0\n`, `requests/s\s+\d+`} {
				if !regexp.MustCompile(want).MatchString(got) {
					t.Errorf("bench output lacks %q:\n%s", want, got)
				}
			}
		})
	}

	// The refreshes wrote to SQLite's log; the operator's metrics show it.
	backend := &url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", port)}
	testwait.For(t, 10*time.Second, "the log's length in the metrics", func() bool {
		return metric(t, backend, "frontdesk_sqlite_wal_pages") > 0
	})
	_, text := plainGet(t, backend.String()+"/metrics")
	for _, name := range []string{"frontdesk_sqlite_wal_restarts_total 0", "frontdesk_sqlite_wal_restarts_given_up_total 0"} {
		if !strings.Contains(text, "\n"+name+"\n") {
			t.Errorf("metrics lack %q", name)
		}
	}
	p.Stop()
}
