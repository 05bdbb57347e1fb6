package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptrace"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/internal/benchclient"
	"github.com/frontdeskhq/frontdesk/internal/servetest"
	"github.com/frontdeskhq/frontdesk/internal/testwait"
)

// cpuTime is the user+system CPU time a process has used so far (Linux).
func cpuTime(t *testing.T, pid int) time.Duration {
	t.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	fields := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+1:]))
	// After the command name: state is field 3, utime 14 and stime 15.
	ut, _ := strconv.ParseInt(fields[11], 10, 64)
	st, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond // USER_HZ is 100 on Linux
}

// TestFaultSIGTERMUnderLoad sends SIGTERM to a frontdesk that is busy with
// password logins and a stream of page loads. The logins in flight finish
// with their normal answers (marked Connection: close); connections opened
// after the signal are refused while they finish; nothing the server had
// begun is cut off with a reset; the process exits 0 well within
// server.shutdown_timeout.
func TestFaultSIGTERMUnderLoad(t *testing.T) {
	bin := frontdeskBinary.Path(t)
	dir := t.TempDir()
	port := servetest.FreePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	base := fmt.Sprintf("http://localhost:%d", port)
	const grace = 15 * time.Second
	// Expensive hashes (a quarter of a second each here) keep the logins in
	// flight long enough to watch the shutdown around them. Attempts in
	// flight count toward the lockout threshold until they succeed, so four
	// concurrent logins of one account need a threshold above 4.
	env := servetest.CleanEnv("FRONTDESK_SERVER_LISTEN="+addr, "FRONTDESK_SERVER_PUBLIC_URL="+base,
		"FRONTDESK_SERVER_SHUTDOWN_TIMEOUT="+grace.String(), "FRONTDESK_PASSWORDS_ARGON2_ITERATIONS=12",
		"FRONTDESK_PASSWORDS_HASH_CONCURRENCY=4", "FRONTDESK_LOCKOUT_THRESHOLD=10")
	p := servetest.Serve(t, bin, dir, env)
	setUpOwner(t, p, base)

	// Four people with a page open on a connection of their own.
	const people = 4
	type person struct {
		hc   *http.Client
		page string
	}
	var ps []person
	for range people {
		jar, _ := cookiejar.New(nil)
		hc := &http.Client{Jar: localhostJar{jar}, Timeout: 30 * time.Second, Transport: &http.Transport{MaxConnsPerHost: 1},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		b := &browser{t: t, base: base, client: hc}
		st, page := b.get("/p/demo/login")
		if st != http.StatusOK {
			t.Fatalf("login page: %d", st)
		}
		ps = append(ps, person{hc: hc, page: page})
	}

	// Background load: page loads over kept-alive connections until the
	// server refuses a new connection.
	var (
		stopLoad  = make(chan struct{})
		loadWG    sync.WaitGroup
		loadOK    atomic.Int64
		loadMu    sync.Mutex
		loadErrs  []error
		refusedAt atomic.Int64
	)
	for w := range 4 {
		loadWG.Go(func() {
			hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxConnsPerHost: 1}}
			paths := []string{"/p/demo/login", "/healthz", "/.well-known/openid-configuration"}
			for i := 0; ; i++ {
				select {
				case <-stopLoad:
					return
				default:
				}
				req, _ := http.NewRequest(http.MethodGet, base+paths[(w+i)%len(paths)], nil)
				resp, err := hc.Do(req)
				if err != nil {
					if errors.Is(err, syscall.ECONNREFUSED) {
						refusedAt.CompareAndSwap(0, time.Now().UnixNano())
						return
					}
					loadMu.Lock()
					loadErrs = append(loadErrs, err)
					loadMu.Unlock()
					return
				}
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != http.StatusOK {
					loadMu.Lock()
					loadErrs = append(loadErrs, fmt.Errorf("%s: %d %v", req.URL.Path, resp.StatusCode, err))
					loadMu.Unlock()
					return
				}
				loadOK.Add(1)
			}
		})
	}
	testwait.For(t, 20*time.Second, "background load to get going", func() bool { return loadOK.Load() >= 20 })

	// The four logins are sent.
	type result struct {
		status int
		close  bool
		done   time.Time
		err    error
	}
	results := make([]result, people)
	var wrote, loginWG sync.WaitGroup
	cpuBefore := cpuTime(t, p.Pid())
	for i, pe := range ps {
		wrote.Add(1)
		loginWG.Go(func() {
			form := benchclient.HiddenFields(pe.page)
			form.Set("email", "owner@demo.example")
			form.Set("password", ownerPassword)
			var once sync.Once
			trace := &httptrace.ClientTrace{
				WroteRequest: func(httptrace.WroteRequestInfo) { once.Do(wrote.Done) },
			}
			req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(t.Context(), trace), http.MethodPost,
				base+"/p/demo/login", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", base)
			resp, err := pe.hc.Do(req)
			once.Do(wrote.Done)
			if err != nil {
				results[i] = result{err: err, done: time.Now()}
				return
			}
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			results[i] = result{status: resp.StatusCode, close: resp.Close, done: time.Now(), err: err}
		})
	}
	wrote.Wait()
	// The server is hashing (it has read the requests) once it burns CPU.
	testwait.For(t, 20*time.Second, "the server to start hashing", func() bool {
		return cpuTime(t, p.Pid())-cpuBefore >= 150*time.Millisecond
	})

	sigAt := time.Now()
	if err := p.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// New connections are refused from now on, while the logins finish.
	testwait.For(t, 5*time.Second, "a new connection to be refused", func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = c.Close()
			return false
		}
		if errors.Is(err, syscall.ECONNREFUSED) {
			refusedAt.CompareAndSwap(0, time.Now().UnixNano())
			return true
		}
		t.Fatalf("dial after SIGTERM: %v", err)
		return false
	})
	refused := time.Unix(0, refusedAt.Load())

	var exitErr error
	select {
	case <-p.Done():
		exitErr = p.Err()
	case <-testwait.Guard(t): // a hang guard; the grace period is checked below
		t.Fatalf("frontdesk still running %s after SIGTERM\n%s", time.Since(sigAt), p.Dump())
	}
	exitedAfter := time.Since(sigAt)
	loginWG.Wait()
	close(stopLoad)
	loadWG.Wait()

	if exitErr != nil {
		t.Errorf("exit after SIGTERM: %v\n%s", exitErr, p.Dump())
	}
	if exitedAfter > grace {
		t.Errorf("exited %s after SIGTERM, beyond the %s grace period", exitedAfter, grace)
	}
	lastDone := sigAt
	for i, r := range results {
		if r.err != nil {
			t.Errorf("login %d in flight at SIGTERM was dropped: %v", i, r.err)
			continue
		}
		if r.status != http.StatusSeeOther {
			t.Errorf("login %d in flight at SIGTERM: %d, want 303", i, r.status)
		}
		if !r.close {
			t.Errorf("login %d: the answer during shutdown did not close the connection", i)
		}
		if r.done.After(lastDone) {
			lastDone = r.done
		}
	}
	if !lastDone.After(refused) {
		t.Errorf("the logins finished (%s after SIGTERM) before new connections were refused (%s after): nothing was in flight",
			lastDone.Sub(sigAt), refused.Sub(sigAt))
	}
	for _, err := range loadErrs {
		t.Errorf("a page load was cut off instead of finishing or being refused: %v", err)
	}
	for _, msg := range []string{"shutting down: finishing requests in flight", "stopped"} {
		if p.Logged(msg) == nil {
			t.Errorf("no %q log line\n%s", msg, p.Dump())
		}
	}
	t.Logf("SIGTERM → refused %s, last login answered %s, exit %s; %d page loads before",
		refused.Sub(sigAt).Round(time.Millisecond), lastDone.Sub(sigAt).Round(time.Millisecond),
		exitedAfter.Round(time.Millisecond), loadOK.Load())

	// Nothing was lost: the service starts again on the same data and the
	// owner logs in.
	p2 := servetest.Serve(t, bin, dir, env)
	b := newBrowser(t, base)
	_, page := b.get("/p/demo/login")
	if st, _, _ := postLogin(b, page, "demo", "owner@demo.example", ownerPassword); st != http.StatusOK {
		t.Errorf("login after restart: %d", st)
	}
	p2.Stop()
}
