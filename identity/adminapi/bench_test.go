package adminapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/enforce"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
)

// cpuTime is the CPU time (user + system) the process has used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU adds a cpu-µs/op metric to b: the process's CPU time over the
// timed loop divided by b.N (comparable on shared cores where ns/op is not).
func reportCPU(b *testing.B) func() {
	start := cpuTime()
	return func() {
		b.ReportMetric(float64(cpuTime()-start)/float64(time.Microsecond)/float64(b.N), "cpu-µs/op")
	}
}

// BenchmarkAdminAPIRequest is one authenticated admin API call (GET
// …/members/{self} as the owner, token already verified and cached by enforce)
// through frontdesk's whole handler without the network, and, in the same
// run, the liveness check alone (store.CheckAccessToken, one statement),
// which every call now makes.
func BenchmarkAdminAPIRequest(b *testing.B) {
	for _, engine := range storetest.Engines() {
		b.Run(string(engine), func(b *testing.B) {
			h := newHarness(b, engine)
			at := h.signIn("owner@sunrise.example").tok.AccessToken
			v, err := enforce.New(enforce.Config{Issuer: h.srv.URL, Audience: "console", HTTPClient: h.srv.Client()})
			if err != nil {
				b.Fatal(err)
			}
			c, err := v.Verify(context.Background(), at)
			if err != nil {
				b.Fatal(err)
			}
			ref := store.AccessTokenRef{JTI: c.ID, SessionID: c.SessionID, PracticeID: c.PracticeID, Subject: c.Subject,
				ClientID: c.ClientID, IssuedAt: c.IssuedAt}
			b.Run("request", func(b *testing.B) {
				req := httptest.NewRequest(http.MethodGet, h.srv.URL+"/api/v1/practices/sunrise/members/"+c.Subject, nil)
				req.Header.Set("Authorization", "Bearer "+at)
				b.ReportAllocs()
				done := reportCPU(b)
				for b.Loop() {
					rec := httptest.NewRecorder()
					h.app.Handler.ServeHTTP(rec, req)
					if rec.Code != http.StatusOK {
						b.Fatalf("status %d: %s", rec.Code, rec.Body)
					}
				}
				done()
			})
			b.Run("liveness-check", func(b *testing.B) {
				ctx := context.Background()
				b.ReportAllocs()
				done := reportCPU(b)
				for b.Loop() {
					if err := h.app.Store.CheckAccessToken(ctx, ref, time.Now()); err != nil {
						b.Fatal(err)
					}
				}
				done()
			})
		})
	}
}
