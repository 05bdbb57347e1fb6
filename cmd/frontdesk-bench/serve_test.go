package main

import (
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/internal/servetest"
)

// The end-to-end test drives a real frontdesk: the production binary, built
// from ../frontdesk and run as `frontdesk serve` (internal/servetest).

// ownerPassword is the password the test gives the practice owner.
const ownerPassword = "seven lanterns over a quiet harbour"

// frontdeskBinary is the production binary, built from ../frontdesk once per
// test binary run.
var frontdeskBinary = &servetest.Binary{Pkg: "../frontdesk"}

// TestMain removes the binary the end-to-end test built.
func TestMain(m *testing.M) {
	code := m.Run()
	frontdeskBinary.Remove()
	os.Exit(code)
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
