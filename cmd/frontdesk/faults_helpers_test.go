package main

// Helpers shared by the fault-injection tests (faults_*_e2e_test.go).

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/internal/benchclient"
	"github.com/frontdeskhq/frontdesk/internal/servetest"
)

const faultRedirect = "http://127.0.0.1:9/callback"

// writeClientConfig writes a config file registering the "ehr" client (code
// flow with refresh tokens) and returns its path.
func writeClientConfig(t *testing.T, dir string) string {
	t.Helper()
	cfgFile := filepath.Join(dir, "frontdesk.yaml")
	if err := os.WriteFile(cfgFile, []byte(`clients:
  - id: "ehr"
    secret: "`+replicaClientSecret+`"
    redirect_uris: ["`+faultRedirect+`"]
    grant_types: ["authorization_code", "refresh_token"]
    scopes: ["openid", "offline_access", "email"]
`), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfgFile
}

// appWorker returns the load tool's client (benchclient) acting as the "ehr" app and its user's
// browser against target (redirects are not followed: the worker walks them).
func appWorker(target string) *benchclient.Client {
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: localhostJar{jar}, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &benchclient.Client{Opts: &benchclient.Options{Target: target, ClientID: "ehr", ClientSecret: replicaClientSecret,
		Redirect: faultRedirect, Scopes: "openid offline_access email", Password: ownerPassword},
		HTTP: hc, Practice: "demo", Email: "owner@demo.example"}
}

// failover is a load balancer that sends every request to the first replica
// it believes alive, starting at first. When a replica cannot be reached it
// answers 502 and marks it down, as a balancer with passive health checks
// does; the browser's retry then goes to the next replica.
type failover struct {
	backends []*url.URL
	mu       sync.Mutex
	down     map[int]bool
	served   []int
}

func (f *failover) pick() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.backends {
		if !f.down[i] {
			return i
		}
	}
	return 0
}

func (f *failover) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	i := f.pick()
	f.mu.Lock()
	f.served = append(f.served, i)
	f.mu.Unlock()
	(&httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(f.backends[i])
			pr.Out.Host = pr.In.Host
		},
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, _ error) {
			f.mu.Lock()
			f.down[i] = true
			f.mu.Unlock()
			http.Error(w, "replica unreachable", http.StatusBadGateway)
		},
	}).ServeHTTP(w, r)
}

// serveBalancer serves h on ln until the test ends.
func serveBalancer(t *testing.T, ln net.Listener, h http.Handler) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
}

// replicaSet is n `frontdesk serve` processes sharing one configuration.
type replicaSet struct {
	procs    []*servetest.Process
	backends []*url.URL
}

// startReplicas starts n replicas with common plus their own listen address.
func startReplicas(t *testing.T, n int, bin, dir, cfgFile string, common []string) *replicaSet {
	t.Helper()
	rs := &replicaSet{}
	for range n {
		port := servetest.FreePort(t)
		env := append(append([]string(nil), common...), fmt.Sprintf("FRONTDESK_SERVER_LISTEN=127.0.0.1:%d", port))
		rs.procs = append(rs.procs, servetest.Serve(t, bin, dir, env, "--config", cfgFile))
		rs.backends = append(rs.backends, &url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", port)})
	}
	return rs
}

// metric sums the samples of a Prometheus metric whose label set contains
// every one of labels (e.g. `result="ok"`), as served by backend's /metrics.
func metric(t *testing.T, backend *url.URL, name string, labels ...string) float64 {
	t.Helper()
	resp, err := http.Get(backend.String() + "/metrics")
	if err != nil {
		t.Fatalf("metrics of %s: %v", backend.Host, err)
	}
	defer resp.Body.Close()
	var sum float64
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name) || (len(line) > len(name) && line[len(name)] != '{' && line[len(name)] != ' ') {
			continue
		}
		ok := true
		for _, l := range labels {
			ok = ok && strings.Contains(line, l)
		}
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err == nil {
			sum += v
		}
	}
	return sum
}

// get fetches u with a plain client and returns status and body.
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

// userinfo asks backend's userinfo endpoint about an access token.
func userinfo(t *testing.T, backend *url.URL, host, access string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, backend.String()+"/oauth2/userinfo", nil)
	req.Host = host
	req.Header.Set("Authorization", "Bearer "+access)
	resp, err := (&http.Client{Timeout: 15 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("userinfo on %s: %v", backend.Host, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// jwtKeyID returns the kid of a compact JWT's header.
func jwtKeyID(t *testing.T, jwt string) string {
	t.Helper()
	head, _, _ := strings.Cut(jwt, ".")
	raw, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		t.Fatalf("JWT header: %v", err)
	}
	var h struct {
		Kid string `json:"kid"`
	}
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatalf("JWT header: %v", err)
	}
	return h.Kid
}

// withTimeout returns a context that ends within d or with the test.
func withTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}
