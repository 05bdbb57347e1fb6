package main

import (
	"bufio"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
	"github.com/frontdeskhq/frontdesk/internal/servetest"
	"github.com/frontdeskhq/frontdesk/invites/smtptest"
	"github.com/frontdeskhq/frontdesk/lockout/lockouttest"
)

// No container engine runs on the development machine, so the image and the
// compose file cannot be run here. This test rehearses what they ask of the
// binary: it checks that the tests' binary is built with the Dockerfile's
// exact build command, then runs
// `serve` with the Dockerfile's ENV and the compose file's environment for
// the frontdesk service (its service names pointed at this machine's
// PostgreSQL, Redis and an SMTP server), and checks that the configuration
// is accepted, the service gets ready, and the owner's setup mail goes out
// through SMTP. A misspelt setting in either file fails here (the
// configuration refuses FRONTDESK_ names it does not know).
func TestDeploymentRecipe(t *testing.T) {
	root := filepath.Join("..", "..")
	dockerfile, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	build, env := dockerfileBuildAndEnv(t, string(dockerfile))

	// The tests' binary is built exactly as the Dockerfile builds the image's.
	const want = `go build -trimpath -ldflags "-s -w" -o /out/frontdesk ./cmd/frontdesk`
	if got := strings.Join(strings.Fields(build), " "); got != want {
		t.Fatalf("the Dockerfile builds with %q; frontdeskBinary (e2e_test.go) builds with %q: change both together", got, want)
	}
	bin := frontdeskBinary.Path(t)
	dir := t.TempDir()

	compose := composeEnvironment(t, filepath.Join(root, "deploy", "compose.yaml"))
	_, dsn := storetest.DSN(t, store.Postgres)
	redis := lockouttest.StartServer(t)
	smtp := smtptest.Start(t, smtptest.Options{})
	port := servetest.FreePort(t)
	base := fmt.Sprintf("http://localhost:%d", port)
	// The compose file's service names stand for this machine's servers.
	local := map[string]string{
		"FRONTDESK_DATABASE_URL":      dsn,
		"FRONTDESK_REDIS_URL":         "redis://" + redis.Addr() + "/0",
		"FRONTDESK_MAIL_SMTP_HOST":    "127.0.0.1",
		"FRONTDESK_MAIL_SMTP_PORT":    fmt.Sprint(smtp.Port()),
		"FRONTDESK_SERVER_PUBLIC_URL": base,
		"FRONTDESK_OIDC_MASTER_KEY":   servetest.MasterKey,
		"FRONTDESK_SERVER_LISTEN":     fmt.Sprintf("127.0.0.1:%d", port),
		"FRONTDESK_DATA_DIR":          filepath.Join(dir, "var", "lib", "frontdesk", "data"),
	}
	var serveEnv []string
	for _, kv := range servetest.CleanEnv() {
		if !strings.HasPrefix(kv, "FRONTDESK_") {
			serveEnv = append(serveEnv, kv)
		}
	}
	for _, src := range []map[string]string{env, compose} {
		for k, v := range src {
			if l, ok := local[k]; ok {
				v = l
			}
			serveEnv = append(serveEnv, k+"="+v)
		}
	}
	for _, k := range []string{"FRONTDESK_SERVER_LISTEN", "FRONTDESK_DATA_DIR", "FRONTDESK_DATABASE_URL", "FRONTDESK_REDIS_URL"} {
		if _, ok := env[k]; !ok {
			if _, ok := compose[k]; !ok {
				t.Errorf("neither the Dockerfile nor the compose file sets %s", k)
			}
		}
	}
	if err := os.MkdirAll(local["FRONTDESK_DATA_DIR"], 0o700); err != nil {
		t.Fatal(err)
	}
	p := servetest.Serve(t, bin, dir, serveEnv)
	if st, body := plainGet(t, base+"/readyz"); st != 200 {
		t.Fatalf("/readyz: %d %s\n%s", st, body, p.Dump())
	}
	if !createdDemo(p) {
		t.Fatalf("no demo practice\n%s", p.Dump())
	}
	setUpOwnerByMail(t, smtp, base)
	p.Stop()
}

// dockerfileBuildAndEnv returns the final stage's go build command (RUN
// lines joined at their backslashes, up to the first &&) and its ENV
// settings.
func dockerfileBuildAndEnv(t *testing.T, text string) (string, map[string]string) {
	t.Helper()
	var (
		lines []string
		cur   string
	)
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(l, "#") || (l == "" && cur == "") {
			continue
		}
		if more, ok := strings.CutSuffix(l, "\\"); ok {
			cur += more + " "
			continue
		}
		lines = append(lines, cur+l)
		cur = ""
	}
	var build string
	env := map[string]string{}
	kv := regexp.MustCompile(`(FRONTDESK_[A-Z_]+)=(\S+)`)
	for _, l := range lines {
		switch {
		case strings.HasPrefix(l, "RUN ") && strings.Contains(l, "go build"):
			cmd, _, _ := strings.Cut(l, "&&")
			_, build, _ = strings.Cut(cmd, "GOOS=linux ")
			build = strings.TrimSpace(build)
		case strings.HasPrefix(l, "ENV "):
			for _, m := range kv.FindAllStringSubmatch(l, -1) {
				env[m[1]] = m[2]
			}
		}
	}
	if build == "" || len(env) == 0 {
		t.Fatalf("Dockerfile: no go build or no FRONTDESK_ ENV found")
	}
	return build, env
}

// composeEnvironment returns the frontdesk service's environment from the
// compose file, with ${VAR:?message} references left as their names.
func composeEnvironment(t *testing.T, path string) map[string]string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Services map[string]struct {
			Environment map[string]string `yaml:"environment"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	env := doc.Services["frontdesk"].Environment
	if len(env) == 0 {
		t.Fatalf("%s: the frontdesk service has no environment", path)
	}
	for k, v := range env {
		if !strings.HasPrefix(k, "FRONTDESK_") {
			t.Errorf("%s: %s is not a frontdesk setting", path, k)
		}
		if strings.HasPrefix(v, "postgres://") {
			if u, err := url.Parse(v); err != nil || u.Host == "" {
				t.Errorf("%s: %s is not a URL: %q", path, k, v)
			}
		}
	}
	return env
}
