// Package servetest runs the production frontdesk binary in tests the way an
// operator does: built once per test binary, started as `frontdesk serve` with
// a clean environment, its JSON log lines collected, and stopped with SIGTERM.
// cmd/frontdesk's end-to-end tests and cmd/frontdesk-bench's use it. It is
// for tests only.
package servetest

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/frontdeskhq/frontdesk/internal/testwait"
)

// MasterKey is the OpenID master key the tests' servers share (PostgreSQL
// requires one; on SQLite it replaces the generated master.key).
const MasterKey = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="

// Binary is a Go command compiled once per test binary run. Declare one per
// test package and call Remove from TestMain.
type Binary struct {
	// Pkg is the package to build, as `go build` takes it ("." or a path
	// relative to the test's folder).
	Pkg string
	// Flags are extra `go build` flags.
	Flags []string

	once sync.Once
	dir  string
	path string
	err  error
}

// Path builds the binary on first use and returns its path. With -short it
// skips the test: building takes seconds.
func (b *Binary) Path(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test builds the frontdesk binary; skipped with -short")
	}
	b.once.Do(func() {
		if b.dir, b.err = os.MkdirTemp("", "frontdesk-e2e-"); b.err != nil {
			return
		}
		b.path = filepath.Join(b.dir, "frontdesk")
		args := append(append([]string{"build"}, b.Flags...), "-o", b.path, b.Pkg)
		cmd := exec.Command("go", args...)
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

// Remove deletes what Path built.
func (b *Binary) Remove() {
	if b.dir != "" {
		_ = os.RemoveAll(b.dir)
	}
}

// CleanEnv is the test's environment without any FRONTDESK_ setting, plus
// MasterKey and extra.
func CleanEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "FRONTDESK_") {
			env = append(env, kv)
		}
	}
	env = append(env, "FRONTDESK_OIDC_MASTER_KEY="+MasterKey)
	return append(env, extra...)
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// RunCLI runs one command of bin in dir and returns its exit status and
// combined output. It ends at the test's hang guard, not at a time limit.
func RunCLI(t testing.TB, bin, dir string, env []string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.CommandContext(testwait.Context(t), bin, args...)
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

// Process is a running `frontdesk serve`.
type Process struct {
	t    testing.TB
	cmd  *exec.Cmd
	done chan struct{} // closed once the process has exited
	err  error         // its exit error, set before done is closed

	mu    sync.Mutex
	lines []map[string]any
}

// Serve starts `bin serve args...` in dir with env and returns once it logs
// "frontdesk listening". A line of standard error that is not JSON is kept as
// {"msg": "unparsed: <line>"}. The process is killed when the test ends if it
// is still running.
func Serve(t testing.TB, bin, dir string, env []string, args ...string) *Process {
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
	p := &Process{t: t, cmd: cmd, done: make(chan struct{})}
	listening := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var once sync.Once
		for sc.Scan() {
			var line map[string]any
			if json.Unmarshal(sc.Bytes(), &line) != nil {
				line = map[string]any{"msg": "unparsed: " + sc.Text()}
			}
			p.mu.Lock()
			p.lines = append(p.lines, line)
			p.mu.Unlock()
			if line["msg"] == "frontdesk listening" {
				once.Do(func() { close(listening) })
			}
		}
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		if !p.Exited() {
			_ = cmd.Process.Kill()
		}
	})
	select {
	case <-listening:
	case <-p.done:
		t.Fatalf("frontdesk serve exited before listening: %v\n%s", p.err, p.Dump())
	case <-testwait.Guard(t): // only a hang guard: it waits for the "listening" log line
		t.Fatalf("frontdesk serve did not start\n%s", p.Dump())
	}
	return p
}

// Pid is the process's ID.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Signal sends sig to the process.
func (p *Process) Signal(sig os.Signal) error { return p.cmd.Process.Signal(sig) }

// Done is closed once the process has exited; Err then holds how.
func (p *Process) Done() <-chan struct{} { return p.done }

// Err is the process's exit error (nil for a clean exit), once Done is closed.
func (p *Process) Err() error {
	<-p.done
	return p.err
}

// Exited reports whether the process has exited, without waiting.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Lines returns the log lines so far.
func (p *Process) Lines() []map[string]any {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]map[string]any(nil), p.lines...)
}

// Dump is the log so far, a line each, for failure messages.
func (p *Process) Dump() string {
	var b strings.Builder
	for _, l := range p.Lines() {
		fmt.Fprintln(&b, l)
	}
	return b.String()
}

// Logged returns the first log line with the message msg, or nil.
func (p *Process) Logged(msg string) map[string]any {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range p.lines {
		if l["msg"] == msg {
			return l
		}
	}
	return nil
}

// Stop sends SIGTERM and fails the test unless the process exits cleanly.
func (p *Process) Stop() {
	p.t.Helper()
	if err := p.Signal(syscall.SIGTERM); err != nil {
		p.t.Fatal(err)
	}
	select {
	case <-p.done:
		if p.err != nil {
			p.t.Fatalf("frontdesk exited with %v after SIGTERM\n%s", p.err, p.Dump())
		}
	case <-testwait.Guard(p.t): // only a hang guard: it waits for the process to exit
		p.t.Fatal("frontdesk did not stop after SIGTERM")
	}
}
