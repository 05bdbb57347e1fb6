package httpserver_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/account/accounttest"
	"github.com/frontdeskhq/frontdesk/identity/store"
)

// TestForgotPasswordRequestPathIsTheSame holds the background reset worker
// and posts "forgot password" for an unknown address, for an active member,
// and for a member whose last link is too recent: before the worker runs,
// none of them has written anything (no audit row, no link, no mail), and the
// answers are identical. So the request path does the same work (read the
// practice, check the form, queue) whether or not the address belongs to a
// member; the work that differs runs after the answer was sent.
func TestForgotPasswordRequestPathIsTheSame(t *testing.T) {
	for _, engine := range []store.Engine{store.SQLite, store.Postgres} {
		t.Run(string(engine), func(t *testing.T) {
			gate := make(chan struct{})
			var release sync.Once
			open := func() { release.Do(func() { close(gate) }) }
			s := newOnboardingSiteWith(t, engine, accounttest.OnboardingOptions{BeforeResetWork: func() { <-gate }})
			t.Cleanup(open) // registered last: runs before the service drains its queue
			ctx := context.Background()
			owner := "owner@sunrise.example.org"
			p, err := s.ob.Store.PracticeBySlug(ctx, "sunrise")
			if err != nil {
				t.Fatal(err)
			}
			m, err := s.ob.Store.MemberByEmail(ctx, p.ID, owner)
			if err != nil {
				t.Fatal(err)
			}
			audit := func() int {
				t.Helper()
				ev, err := s.ob.Store.ListAudit(ctx, p.ID, 10000)
				if err != nil {
					t.Fatal(err)
				}
				return len(ev)
			}
			before := audit()
			strip := func(b string) string { // the per-request CSP nonce differs
				if i := strings.Index(b, "<main"); i >= 0 {
					return b[i:]
				}
				return b
			}
			var bodies []string
			for _, addr := range []string{"nobody@example.org", owner, owner} {
				r := s.post("/p/sunrise/forgot", url.Values{"email": {addr}})
				expect(t, addr, r, http.StatusOK, "Check your email")
				bodies = append(bodies, strip(r.body))
			}
			for i, b := range bodies[1:] {
				if b != bodies[0] {
					t.Errorf("answer %d differs from the answer for an unknown address", i+1)
				}
			}
			if n := audit(); n != before {
				t.Errorf("the request path wrote %d audit rows", n-before)
			}
			if last, err := s.ob.Store.LatestLinkAt(ctx, m.ID, store.PurposeReset); err != nil || !last.IsZero() {
				t.Errorf("the request path created a reset link (%v, %v)", last, err)
			}
			// Now the work runs: one link and mail for the member, the second
			// request refused as too soon, the unknown address only audited.
			open()
			wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			if err := s.ob.Onboard.WaitPasswordResets(wctx); err != nil {
				t.Fatal(err)
			}
			if n := audit(); n != before+3 {
				t.Errorf("audit rows after the work: %d, want 3", n-before)
			}
			ev, err := s.ob.Store.ListAudit(ctx, p.ID, 3)
			if err != nil {
				t.Fatal(err)
			}
			reasons := map[string]bool{}
			for _, e := range ev {
				if e.Action != "password.reset_request" {
					t.Errorf("audit action %q", e.Action)
				}
				reasons[e.Outcome+"/"+e.Details["reason"]] = true
			}
			for _, want := range []string{"failure/unknown_account", "success/", "failure/too_soon"} {
				if !reasons[want] {
					t.Errorf("no audit event %s in %v", want, reasons)
				}
			}
			if u, _ := url.Parse(s.mailLink(owner, 1)); u.Path != "/p/sunrise/reset" {
				t.Errorf("link %s", u)
			}
			if len(s.ob.SMTP.To("nobody@example.org")) != 0 {
				t.Error("mail sent to an unknown address")
			}
		})
	}
}
