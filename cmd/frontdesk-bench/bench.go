package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/enforce"
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
	o       *benchOptions
	hc      *http.Client
	tc      *tokenConn // the token scenarios' own connection; nil: use hc
	refresh string
	access  string
	page    url.Values // login form hidden fields (lockout-storm)
	seq     int
	id      int
	// practice and email of this worker's account ({n} replaced).
	practice, email string
	target          string // the replica this worker drives
	verify          *enforce.Verifier
}

// op performs one request of the scenario and returns the HTTP status that
// decides it (0 when none) and an error when it failed.
func (w *benchWorker) op(ctx context.Context) (int, error) {
	switch w.o.scenario {
	case "client-credentials":
		st, _, err := w.token(ctx, url.Values{"grant_type": {"client_credentials"}})
		return st, err
	case "refresh":
		st, tok, err := w.token(ctx, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {w.refresh}})
		if err == nil {
			w.refresh = tok.RefreshToken
		}
		return st, err
	case "verify":
		_, err := w.verify.Verify(ctx, w.access)
		return 0, err
	case "login":
		w.hc.Jar, _ = cookiejar.New(nil)
		_, err := w.login(ctx)
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
		st, _, err := w.post(ctx, "/p/"+w.practice+"/login", form, true)
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
		tok, err := w.login(ctx)
		if err != nil {
			return err
		}
		if w.o.scenario == "refresh" && tok.RefreshToken == "" {
			return errors.New("bench: the code flow returned no refresh token; the client needs the refresh_token grant and --scope must include offline_access")
		}
		w.refresh, w.access = tok.RefreshToken, tok.AccessToken
		if w.o.scenario == "verify" {
			v, err := enforce.New(enforce.Config{Issuer: w.o.issuer, Audience: w.o.clientID, JWKSURL: w.base() + "/oauth2/keys",
				CacheSize: -1, HTTPClient: w.hc})
			if err != nil {
				return err
			}
			w.verify = v
			if _, err := v.Verify(ctx, w.access); err != nil {
				return fmt.Errorf("bench: verifying the access token: %w", err)
			}
		}
	case "lockout-storm":
		st, body, err := w.get(ctx, "/p/"+w.practice+"/login")
		if err != nil || st != http.StatusOK {
			return fmt.Errorf("bench: login page: status %d: %v", st, err)
		}
		w.page = hiddenFields(body)
	}
	return nil
}

type benchTokens struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
}

func (w *benchWorker) token(ctx context.Context, form url.Values) (int, benchTokens, error) {
	if w.tc != nil {
		st, body, err := w.tc.post(ctx, form.Encode())
		if err != nil {
			return st, benchTokens{}, err
		}
		return tokenAnswer(st, body)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.base()+"/oauth2/token", strings.NewReader(form.Encode()))
	if err != nil {
		return 0, benchTokens{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(w.o.clientID), url.QueryEscape(w.o.clientSecret))
	resp, err := w.hc.Do(req)
	if err != nil {
		return 0, benchTokens{}, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return tokenAnswer(resp.StatusCode, body)
}

// tokenAnswer reads a token endpoint's answer.
func tokenAnswer(status int, body []byte) (int, benchTokens, error) {
	var tok benchTokens
	if status != http.StatusOK {
		return status, tok, fmt.Errorf("token endpoint: status %d: %.200s", status, body)
	}
	if err := json.Unmarshal(body, &tok); err != nil || tok.AccessToken == "" {
		return status, tok, fmt.Errorf("token endpoint: unreadable answer: %v", err)
	}
	return status, tok, nil
}

func (w *benchWorker) get(ctx context.Context, path string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, w.abs(path), nil)
	if err != nil {
		return 0, "", err
	}
	return w.do(req)
}

// post sends a form the way a browser does: same-origin Origin header.
func (w *benchWorker) post(ctx context.Context, path string, form url.Values, origin bool) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.abs(path), strings.NewReader(form.Encode()))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if origin {
		req.Header.Set("Origin", w.base())
	}
	return w.do(req)
}

func (w *benchWorker) do(req *http.Request) (int, string, error) {
	resp, err := w.hc.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if loc := resp.Header.Get("Location"); resp.StatusCode/100 == 3 {
		return resp.StatusCode, loc, nil
	}
	return resp.StatusCode, string(body), nil
}

// base is the worker's replica: its own target, else the first --target.
func (w *benchWorker) base() string {
	if w.target != "" {
		return w.target
	}
	return w.o.target
}

func (w *benchWorker) abs(p string) string {
	if strings.HasPrefix(p, "/") {
		return w.base() + p
	}
	return p
}

var benchFormAction = regexp.MustCompile(`<form method="post" action="([^"]+)"`)

var benchHidden = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)"`)

func hiddenFields(page string) url.Values {
	form := url.Values{}
	un := strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">", "&#34;", `"`, "&#39;", "'")
	for _, m := range benchHidden.FindAllStringSubmatch(page, -1) {
		form.Set(m[1], un.Replace(m[2]))
	}
	return form
}

func randomString() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// login runs the whole authorization-code flow as a browser would: authorize
// (PKCE S256, state, nonce), the practice's HTML login form with the
// password, the redirect back with the code, and the code exchange.
func (w *benchWorker) login(ctx context.Context) (benchTokens, error) {
	verifier, state := randomString(), randomString()
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"client_id": {w.o.clientID}, "redirect_uri": {w.o.redirect}, "response_type": {"code"},
		"scope": {w.o.scopes}, "state": {state}, "nonce": {randomString()}, "practice": {w.practice},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	st, body, err := w.get(ctx, "/oauth2/authorize?"+q.Encode())
	loginPath := "/p/" + w.practice + "/login"
	for range 8 {
		if err != nil {
			return benchTokens{}, err
		}
		if st/100 != 3 {
			if st == http.StatusOK && strings.Contains(body, `name="password"`) {
				form := hiddenFields(body)
				form.Set("email", w.email)
				form.Set("password", w.o.password)
				path := loginPath
				if m := benchFormAction.FindStringSubmatch(body); m != nil && strings.HasPrefix(m[1], "/") {
					// The form's own action: a peer provider's login
					// interaction lives elsewhere (scripts/bench-peers).
					path = m[1]
				}
				st, body, err = w.post(ctx, path, form, true)
				if err == nil && st/100 != 3 {
					return benchTokens{}, fmt.Errorf("login form answered %d (wrong --email/--password, locked, or overloaded)", st)
				}
				continue
			}
			return benchTokens{}, fmt.Errorf("code flow stopped at status %d", st)
		}
		loc, perr := url.Parse(body)
		if perr != nil {
			return benchTokens{}, perr
		}
		if !loc.IsAbs() {
			loc = (&url.URL{Scheme: "http", Host: ""}).ResolveReference(loc)
			body = w.base() + loc.RequestURI()
		} else if iss, _ := url.Parse(w.o.issuer); len(w.o.targets) > 1 && iss != nil && loc.Host == iss.Host {
			// Replicas share one public URL (a load balancer's); the worker
			// stays on its replica.
			body = w.base() + loc.RequestURI()
		}
		if strings.HasPrefix(body, w.o.redirect) {
			rq := loc.Query()
			if rq.Get("state") != state || rq.Get("code") == "" {
				return benchTokens{}, fmt.Errorf("authorization response without code: %s", rq.Get("error"))
			}
			st, tok, err := w.token(ctx, url.Values{"grant_type": {"authorization_code"}, "code": {rq.Get("code")},
				"redirect_uri": {w.o.redirect}, "code_verifier": {verifier}})
			if err != nil {
				return benchTokens{}, fmt.Errorf("code exchange (status %d): %w", st, err)
			}
			return tok, nil
		}
		st, body, err = w.get(ctx, body)
	}
	return benchTokens{}, errors.New("code flow: too many redirects")
}

// benchSetup completes an account setup link with o.password, so a fresh
// practice can be benchmarked without a browser.
func benchSetup(ctx context.Context, o *benchOptions, setupURL string) error {
	jar, _ := cookiejar.New(nil)
	w := &benchWorker{o: o, target: o.target, hc: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	st, page, err := w.get(ctx, setupURL)
	if err != nil || st != http.StatusOK {
		return fmt.Errorf("bench: setup link: status %d: %v", st, err)
	}
	u, err := url.Parse(setupURL)
	if err != nil {
		return err
	}
	form := hiddenFields(page)
	form.Set("new_password", o.password)
	form.Set("confirm_password", o.password)
	st, _, err = w.post(ctx, u.Path, form, true)
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
	for i := range workers {
		jar, _ := cookiejar.New(nil)
		n := strconv.Itoa(i % o.accounts)
		workers[i] = &benchWorker{o: &o, id: i, target: o.targets[i%len(o.targets)], practice: strings.ReplaceAll(o.practice, "{n}", n),
			email: strings.ReplaceAll(o.email, "{n}", n), hc: &http.Client{Transport: transport, Jar: jar, Timeout: 30 * time.Second,
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
		if err := workers[i].setup(ctx); err != nil {
			return nil, fmt.Errorf("bench: setting up worker %d: %w", i, err)
		}
		if o.scenario == "client-credentials" || o.scenario == "refresh" {
			workers[i].tc = newTokenConn(workers[i].base(), o.clientID, o.clientSecret)
		}
	}
	defer func() {
		for _, w := range workers {
			if w.tc != nil {
				w.tc.close()
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
