package httpserver_test

import (
	"net/http"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/httpserver"
)

// TestMetricsMethodLabelIsBounded: a route registered without a method (the
// admin API's /api/v1/, like the provider's /oauth2/) is reached with any
// method a client invents; the latency metric labels the served methods by
// name and every other as "other", so no client can add series at will.
func TestMetricsMethodLabelIsBounded(t *testing.T) {
	srv := newTestServer(t)
	reg := prometheus.NewRegistry()
	srv.serve(t, httpserver.Deps{Registry: reg,
		AdminAPI: func(func(*http.Request) account.Meta) (http.Handler, error) {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) }), nil
		}})
	for _, m := range []string{"GET", "POST", "DELETE", "OPTIONS", "BREW", "PROPFIND", "X-ANYTHING-1", "X-ANYTHING-2"} {
		req, err := http.NewRequest(m, srv.URL+"/api/v1/whatever", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusTeapot {
			t.Fatalf("%s: status %d, want the API's 418", m, resp.StatusCode)
		}
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]uint64{}
	for _, f := range families {
		if f.GetName() != "frontdesk_http_request_duration_seconds" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["route"] == "/api/v1/" {
				if labels["code"] != "418" {
					t.Errorf("code label %q, want 418", labels["code"])
				}
				got[labels["method"]] += m.GetHistogram().GetSampleCount()
			}
		}
	}
	want := map[string]uint64{"GET": 1, "POST": 1, "DELETE": 1, "OPTIONS": 1, "other": 4}
	if len(got) != len(want) {
		t.Fatalf("method labels %v, want %v", got, want)
	}
	for m, n := range want {
		if got[m] != n {
			t.Errorf("method %q counted %d times, want %d (all: %v)", m, got[m], n, got)
		}
	}
}
