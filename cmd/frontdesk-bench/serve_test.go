package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/internal/testwait"
)

// The end-to-end test drives a real frontdesk: the production binary, built
// from ../frontdesk and run as `frontdesk serve`. These helpers are a small
// subset of cmd/frontdesk's own test harness.

// ownerPassword is the password the test gives the practice owner.
const ownerPassword = "seven lanterns over a quiet harbour"

// testMasterKey is the OpenID master key of the tests' servers.
const testMasterKey = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="

var builtFrontdesk struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// TestMain removes the binary the end-to-end test built.
func TestMain(m *testing.M) {
	code := m.Run()
	if builtFrontdesk.dir != "" {
		_ = os.RemoveAll(builtFrontdesk.dir)
	}
	os.Exit(code)
}

// buildFrontdesk compiles cmd/frontdesk once per test binary run.
func buildFrontdesk(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test builds the frontdesk binary; skipped with -short")
	}
	b := &builtFrontdesk
	b.once.Do(func() {
		if b.dir, b.err = os.MkdirTemp("", "frontdesk-bench-e2e-"); b.err != nil {
			return
		}
		b.path = filepath.Join(b.dir, "frontdesk")
		cmd := exec.Command("go", "build", "-o", b.path, "../frontdesk")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

// cleanEnv is the test's environment without any FRONTDESK_ setting, plus a
// master key and extra.
func cleanEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "FRONTDESK_") {
			env = append(env, kv)
		}
	}
	env = append(env, "FRONTDESK_OIDC_MASTER_KEY="+testMasterKey)
	return append(env, extra...)
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// runCLI runs one frontdesk command and returns its exit status and output.
func runCLI(t *testing.T, bin, dir string, env []string, args ...string) (int, string) {
	t.Helper()
	ctx := testwait.Context(t) // a hang guard, not a time limit
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir, cmd.Env = dir, env
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), string(out)
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, string(out)
}

// process is a running `frontdesk serve`.
type process struct {
	t    *testing.T
	cmd  *exec.Cmd
	mu   sync.Mutex
	logs []string
	done chan error
}

// startServe starts `frontdesk serve args...` and returns once it listens.
func startServe(t *testing.T, bin, dir string, env []string, args ...string) *process {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve"}, args...)...)
	cmd.Dir, cmd.Env, cmd.Stdout = dir, env, io.Discard
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{t: t, cmd: cmd, done: make(chan error, 1)}
	listening := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		once := sync.Once{}
		for sc.Scan() {
			var line struct {
				Msg string `json:"msg"`
			}
			_ = json.Unmarshal(sc.Bytes(), &line)
			p.mu.Lock()
			p.logs = append(p.logs, sc.Text())
			p.mu.Unlock()
			if line.Msg == "frontdesk listening" {
				once.Do(func() { close(listening) })
			}
		}
		p.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
		}
	})
	select {
	case <-listening:
	case err := <-p.done:
		t.Fatalf("frontdesk serve exited before listening: %v\n%s", err, p.dump())
	case <-testwait.Guard(t):
		t.Fatalf("frontdesk serve did not start before the test's deadline\n%s", p.dump())
	}
	return p
}

func (p *process) dump() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.logs, "\n")
}

// stop sends SIGTERM and expects a clean exit.
func (p *process) stop() {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		p.t.Fatal(err)
	}
	select {
	case err := <-p.done:
		if err != nil {
			p.t.Fatalf("frontdesk exited with %v after SIGTERM\n%s", err, p.dump())
		}
	case <-testwait.Guard(p.t):
		p.t.Fatal("frontdesk did not stop after SIGTERM before the test's deadline")
	}
}

// plainGet fetches u and returns status and body.
func plainGet(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := (&http.Client{Timeout: 15 * time.Second}).Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// metric sums the samples of a Prometheus metric served by backend's /metrics.
func metric(t *testing.T, backend *url.URL, name string) float64 {
	t.Helper()
	_, text := plainGet(t, backend.String()+"/metrics")
	var sum float64
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(line, name) || (len(line) > len(name) && line[len(name)] != '{' && line[len(name)] != ' ') {
			continue
		}
		if v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64); err == nil {
			sum += v
		}
	}
	return sum
}
