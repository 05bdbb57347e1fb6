package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/enforce"
	"github.com/frontdeskhq/frontdesk/internal/benchclient"
)

// benchScenarios are the load scenarios of frontdesk-bench.
var benchScenarios = []string{"client-credentials", "refresh", "verify", "login", "lockout-storm"}

// benchOptions is one frontdesk-bench run.
type benchOptions struct {
	target, issuer, scenario          string
	requests, concurrency             int
	clientID, clientSecret, redirect  string
	practice, email, password, scopes string
	progress                          bool
	cpuProfile                        string
	targets                           []string // --target split; o.target is the first
	setupURLs                         []string
	accounts                          int
}

// cmdBench drives load against a running frontdesk on a loopback address and
// prints requests/s, latency percentiles and errors.
func cmdBench(ctx context.Context, args []string, stdout, stderr io.Writer, env []string) error {
	fs := flag.NewFlagSet("frontdesk-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o benchOptions
	fs.StringVar(&o.target, "target", "http://127.0.0.1:8080", "base URL of the frontdesk under test (loopback only); "+
		"several, comma-separated, spread the workers round-robin over replicas")
	fs.StringVar(&o.issuer, "issuer", "", "issuer (server.public_url) for verify; default --target")
	fs.StringVar(&o.scenario, "scenario", "", "one of "+strings.Join(benchScenarios, ", "))
	fs.IntVar(&o.requests, "n", 5000, "number of requests (logins for login)")
	fs.IntVar(&o.concurrency, "c", 8, "concurrent workers")
	fs.StringVar(&o.clientID, "client-id", "bench", "client registered in frontdesk's clients:")
	fs.StringVar(&o.clientSecret, "client-secret", "", "its secret (or FDBENCH_CLIENT_SECRET)")
	fs.StringVar(&o.redirect, "redirect-uri", "http://127.0.0.1:9/callback", "a registered redirect URI of the client (never contacted)")
	fs.StringVar(&o.practice, "practice", "demo", "practice slug")
	fs.StringVar(&o.email, "email", "owner@demo.example", "member to log in as")
	fs.StringVar(&o.password, "password", "", "the member's password (or FDBENCH_PASSWORD)")
	fs.StringVar(&o.scopes, "scope", "openid offline_access", "scopes of the code flow")
	fs.BoolVar(&o.progress, "progress", true, "draw a progress bar on stderr")
	fs.Func("setup-url", "first complete this account setup link (from practice create) with --password; repeatable", func(v string) error {
		o.setupURLs = append(o.setupURLs, v)
		return nil
	})
	fs.IntVar(&o.accounts, "accounts", 1, "number of accounts: {n} in --practice and --email becomes worker % accounts")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the load tool's timed run to this file")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("bench: unexpected argument %q: frontdesk-bench takes flags only (see -h)", fs.Arg(0))}
	}
	// Not FRONTDESK_*: those are configuration settings, and the
	// configuration refuses names it does not know.
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "FDBENCH_PASSWORD="); ok && o.password == "" {
			o.password = v
		}
		if v, ok := strings.CutPrefix(kv, "FDBENCH_CLIENT_SECRET="); ok && o.clientSecret == "" {
			o.clientSecret = v
		}
	}
	if !slices.Contains(benchScenarios, o.scenario) {
		return usageError{fmt.Sprintf("bench: --scenario must be one of %s", strings.Join(benchScenarios, ", "))}
	}
	if o.requests < 1 || o.concurrency < 1 || o.concurrency > 1024 {
		return usageError{"bench: --n must be at least 1 and --c between 1 and 1024"}
	}
	for _, t := range strings.Split(o.target, ",") {
		if err := checkLoopback(t); err != nil {
			return usageError{err.Error()}
		}
		o.targets = append(o.targets, strings.TrimRight(t, "/"))
	}
	o.target = o.targets[0]
	if o.issuer == "" {
		o.issuer = o.target
	}
	if o.accounts < 1 {
		return usageError{"bench: --accounts must be at least 1"}
	}
	for _, u := range o.setupURLs {
		if err := checkLoopback(u); err != nil {
			return usageError{err.Error()}
		}
		if err := benchSetup(ctx, &o, u); err != nil {
			return err
		}
		fmt.Fprintln(stderr, "bench: account setup completed")
	}
	res, err := runBench(ctx, o, stderr)
	if err != nil {
		return err
	}
	res.print(stdout, o)
	return nil
}

// checkLoopback refuses any target that is not on this machine: the tool
// generates load and must not be pointed at someone else's service.
func checkLoopback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("bench: --target %q is not an http(s) URL; use for example http://127.0.0.1:8080", raw)
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("bench: --target %q is not a loopback address; bench only drives a frontdesk on this machine (127.0.0.1, ::1 or localhost)", raw)
}

// benchResult is what a run measured.
type benchResult struct {
	elapsed   time.Duration
	latencies []time.Duration
	errors    int64
	statuses  map[int]int64
	firstErr  string
	clientCPU time.Duration // the tool's CPU time over the timed run
}

func (r *benchResult) print(w io.Writer, o benchOptions) {
	slices.Sort(r.latencies)
	pct := func(p float64) time.Duration {
		if len(r.latencies) == 0 {
			return 0
		}
		i := int(p * float64(len(r.latencies)-1))
		return r.latencies[i]
	}
	n := len(r.latencies)
	fmt.Fprintf(w, "scenario     %s\n", o.scenario)
	fmt.Fprintf(w, "target       %s\n", strings.Join(o.targets, ", "))
	fmt.Fprintf(w, "requests     %d (concurrency %d) in %s\n", n, o.concurrency, r.elapsed.Round(time.Millisecond))
	fmt.Fprintf(w, "requests/s   %.0f\n", float64(n)/r.elapsed.Seconds())
	fmt.Fprintf(w, "latency      p50 %s  p95 %s  p99 %s  max %s\n", fmtDur(pct(0.50)), fmtDur(pct(0.95)), fmtDur(pct(0.99)), fmtDur(pct(1)))
	codes := make([]int, 0, len(r.statuses))
	for c := range r.statuses {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	var parts []string
	for _, c := range codes {
		parts = append(parts, fmt.Sprintf("%d×%d", c, r.statuses[c]))
	}
	if len(parts) > 0 {
		fmt.Fprintf(w, "statuses     %s\n", strings.Join(parts, " "))
	}
	if r.clientCPU > 0 && n > 0 {
		// The load tool's own CPU time per request (it shares the cores with
		// the server, so it bounds what the server can be measured at).
		fmt.Fprintf(w, "client cpu   %.0fµs per request\n", float64(r.clientCPU)/float64(time.Microsecond)/float64(n))
	}
	fmt.Fprintf(w, "errors       %d\n", r.errors)
	if r.firstErr != "" {
		fmt.Fprintf(w, "first error  %s\n", r.firstErr)
	}
}

func fmtDur(d time.Duration) string {
	return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
}

// benchWorker is one worker's state: its own client (cookie jar) and, for
// refresh, its own refresh-token chain.
type benchWorker struct {
	// Client is the app and browser; its Practice and Email are this
	// worker's account ({n} replaced), its Target the replica it drives.
	benchclient.Client
	o       *benchOptions
	tc      *tokenConn // the token scenarios' own connection; nil: use HTTP
	refresh string
	access  string
	page    url.Values // login form hidden fields (lockout-storm)
	seq     int
	id      int
	verify  *enforce.Verifier
}

// clientOptions are the app the workers act as.
func (o *benchOptions) clientOptions() *benchclient.Options {
	return &benchclient.Options{Target: o.target, Targets: o.targets, Issuer: o.issuer, ClientID: o.clientID,
		ClientSecret: o.clientSecret, Redirect: o.redirect, Password: o.password, Scopes: o.scopes}
}

// op performs one request of the scenario and returns the HTTP status that
// decides it (0 when none) and an error when it failed.
func (w *benchWorker) op(ctx context.Context) (int, error) {
	switch w.o.scenario {
	case "client-credentials":
		st, _, err := w.Token(ctx, url.Values{"grant_type": {"client_credentials"}})
		return st, err
	case "refresh":
		st, tok, err := w.Token(ctx, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {w.refresh}})
		if err == nil {
			w.refresh = tok.RefreshToken
		}
		return st, err
	case "verify":
		_, err := w.verify.Verify(ctx, w.access)
		return 0, err
	case "login":
		w.HTTP.Jar, _ = cookiejar.New(nil)
		_, err := w.Login(ctx)
		if err != nil {
			return 0, err
		}
		return http.StatusOK, nil
	case "lockout-storm":
		w.seq++
		form := url.Values{}
		for k, v := range w.page {
			form[k] = v
		}
		form.Set("email", fmt.Sprintf("storm-%d-%d@bench.invalid", w.id, w.seq%50))
		form.Set("password", "not the password of anyone at all")
		st, _, err := w.Post(ctx, "/p/"+w.Practice+"/login", form, true)
		if err == nil && st != http.StatusUnauthorized && st != http.StatusTooManyRequests && st != http.StatusServiceUnavailable {
			err = fmt.Errorf("lockout-storm: unexpected status %d", st)
		}
		return st, err
	}
	return 0, fmt.Errorf("bench: unknown scenario %q", w.o.scenario)
}

// setup prepares a worker before the clock starts.
func (w *benchWorker) setup(ctx context.Context) error {
	switch w.o.scenario {
	case "refresh", "verify":
		tok, err := w.Login(ctx)
		if err != nil {
			return err
		}
		if w.o.scenario == "refresh" && tok.RefreshToken == "" {
			return errors.New("bench: the code flow returned no refresh token; the client needs the refresh_token grant and --scope must include offline_access")
		}
		w.refresh, w.access = tok.RefreshToken, tok.AccessToken
		if w.o.scenario == "verify" {
			v, err := enforce.New(enforce.Config{Issuer: w.o.issuer, Audience: w.o.clientID, JWKSURL: w.Base() + "/oauth2/keys",
				CacheSize: -1, HTTPClient: w.HTTP})
			if err != nil {
				return err
			}
			w.verify = v
			if _, err := v.Verify(ctx, w.access); err != nil {
				return fmt.Errorf("bench: verifying the access token: %w", err)
			}
		}
	case "lockout-storm":
		st, body, err := w.Get(ctx, "/p/"+w.Practice+"/login")
		if err != nil || st != http.StatusOK {
			return fmt.Errorf("bench: login page: status %d: %v", st, err)
		}
		w.page = benchclient.HiddenFields(body)
	}
	return nil
}

// benchSetup completes an account setup link with o.password, so a fresh
// practice can be benchmarked without a browser.
func benchSetup(ctx context.Context, o *benchOptions, setupURL string) error {
	jar, _ := cookiejar.New(nil)
	w := &benchWorker{o: o, Client: benchclient.Client{Opts: o.clientOptions(), Target: o.target, HTTP: &http.Client{Jar: jar,
		Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}}
	st, page, err := w.Get(ctx, setupURL)
	if err != nil || st != http.StatusOK {
		return fmt.Errorf("bench: setup link: status %d: %v", st, err)
	}
	u, err := url.Parse(setupURL)
	if err != nil {
		return err
	}
	form := benchclient.HiddenFields(page)
	form.Set("new_password", o.password)
	form.Set("confirm_password", o.password)
	st, _, err = w.Post(ctx, u.Path, form, true)
	if err != nil || (st != http.StatusOK && st/100 != 3) {
		return fmt.Errorf("bench: completing setup: status %d: %v", st, err)
	}
	return nil
}

// runBench sets up the workers, runs o.requests operations across them and
// collects the latencies.
func runBench(ctx context.Context, o benchOptions, stderr io.Writer) (*benchResult, error) {
	transport := &http.Transport{MaxIdleConns: o.concurrency * 2, MaxIdleConnsPerHost: o.concurrency * 2,
		IdleConnTimeout: 30 * time.Second, DisableCompression: true}
	workers := make([]*benchWorker, o.concurrency)
	opts := o.clientOptions()
	for i := range workers {
		jar, _ := cookiejar.New(nil)
		n := strconv.Itoa(i % o.accounts)
		target := o.targets[i%len(o.targets)]
		browser := &http.Client{Transport: transport, Jar: jar, Timeout: 30 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		if o.scenario == "login" && strings.HasPrefix(target, "http://") {
			// One connection of the worker's own, used on its goroutine
			// (connTransport); it bounds each request by 30 s itself.
			browser.Transport, browser.Timeout = &connTransport{}, 0
		}
		workers[i] = &benchWorker{o: &o, id: i, Client: benchclient.Client{Opts: opts, Target: target,
			Practice: strings.ReplaceAll(o.practice, "{n}", n), Email: strings.ReplaceAll(o.email, "{n}", n),
			HTTP: browser}}
		if err := workers[i].setup(ctx); err != nil {
			return nil, fmt.Errorf("bench: setting up worker %d: %w", i, err)
		}
		if o.scenario == "client-credentials" || o.scenario == "refresh" {
			if tc := newTokenConn(workers[i].Base(), o.clientID, o.clientSecret); tc != nil {
				workers[i].tc, workers[i].TokenConn = tc, tc
			}
		}
	}
	defer func() {
		for _, w := range workers {
			if w.tc != nil {
				w.tc.close()
			}
			if ct, ok := w.HTTP.Transport.(*connTransport); ok {
				ct.close()
			}
		}
	}()
	var (
		next     atomic.Int64
		done     atomic.Int64
		mu       sync.Mutex
		res      = &benchResult{statuses: map[int]int64{}}
		wg       sync.WaitGroup
		progress = make(chan struct{})
	)
	if o.progress {
		go drawProgress(stderr, &done, int64(o.requests), progress)
	} else {
		close(progress)
	}
	if o.cpuProfile != "" {
		stop, err := startCPUProfile(o.cpuProfile)
		if err != nil {
			return nil, err
		}
		defer stop()
	}
	cpuStart := processCPU()
	start := time.Now()
	for _, w := range workers {
		wg.Go(func() {
			lat := make([]time.Duration, 0, o.requests/o.concurrency+1)
			statuses := map[int]int64{}
			var errs int64
			var first string
			for next.Add(1) <= int64(o.requests) && ctx.Err() == nil {
				t := time.Now()
				st, err := w.op(ctx)
				lat = append(lat, time.Since(t))
				if st != 0 {
					statuses[st]++
				}
				if err != nil {
					errs++
					if first == "" {
						first = err.Error()
					}
				}
				done.Add(1)
			}
			mu.Lock()
			defer mu.Unlock()
			res.latencies = append(res.latencies, lat...)
			res.errors += errs
			for k, v := range statuses {
				res.statuses[k] += v
			}
			if res.firstErr == "" {
				res.firstErr = first
			}
		})
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	res.clientCPU = processCPU() - cpuStart
	if o.progress {
		progress <- struct{}{}
		<-progress
	}
	return res, ctx.Err()
}

// drawProgress redraws a progress bar on stderr until told to stop.
func drawProgress(w io.Writer, done *atomic.Int64, total int64, stop chan struct{}) {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	draw := func() {
		n := done.Load()
		const width = 40
		filled := int(n * width / max(total, 1))
		fmt.Fprintf(w, "\r[%s%s] %d/%d", strings.Repeat("#", filled), strings.Repeat(" ", width-filled), n, total)
	}
	for {
		select {
		case <-tick.C:
			draw()
		case <-stop:
			draw()
			fmt.Fprintln(w)
			close(stop)
			return
		}
	}
}
