package onboarding_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/account/accounttest"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
)

func droppedResets(t *testing.T, reg *prometheus.Registry) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "frontdesk_password_reset_requests_dropped_total" {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatal("no dropped-resets metric")
	return 0
}

// TestQueuePasswordReset: the queue is bounded and never blocks the caller;
// a full queue drops the request with a metric and the same nil answer; bad
// input is still refused at once; Close works off what was queued and drops
// what comes later.
func TestQueuePasswordReset(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		entered, gate := make(chan struct{}, 10), make(chan struct{})
		o := accounttest.NewOnboarding(t, st, accounttest.OnboardingOptions{ResetQueueSize: 1,
			BeforeResetWork: func() { entered <- struct{}{}; <-gate }})
		onboardingPractice(t, o, "sunrise")
		owner := "owner@sunrise.example.org"

		var invalid *account.InvalidInputError
		if err := o.Onboard.QueuePasswordReset(ctx, "sunrise", "not an address", account.Meta{}); !errors.As(err, &invalid) {
			t.Errorf("malformed address: %v", err)
		}
		if err := o.Onboard.QueuePasswordReset(ctx, "nowhere", owner, account.Meta{}); !errors.Is(err, account.ErrPracticeNotFound) {
			t.Errorf("unknown practice: %v", err)
		}
		// The first request is taken by the (held) worker, the second waits in
		// the queue of one, the third is dropped: all answer nil at once.
		if err := o.Onboard.QueuePasswordReset(ctx, "sunrise", owner, account.Meta{}); err != nil {
			t.Fatal(err)
		}
		<-entered
		// Called on the test's goroutine: were it to block on the full
		// queue, the test would hang (and go test -timeout report it).
		for range 2 {
			if err := o.Onboard.QueuePasswordReset(ctx, "sunrise", "nobody@example.org", account.Meta{}); err != nil {
				t.Fatal(err)
			}
		}
		if got := droppedResets(t, o.Registry); got != 1 {
			t.Errorf("dropped = %v, want 1", got)
		}
		// With the work held, only the context's deadline can end the wait
		// (whatever the machine's speed: the work waits for gate).
		wctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		if err := o.Onboard.WaitPasswordResets(wctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("WaitPasswordResets with held work: %v", err)
		}
		cancel()
		close(gate)
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := o.Onboard.Close(cctx); err != nil {
			t.Fatal(err)
		}
		if len(entered) != 1 { // the queued request was worked too
			t.Errorf("worked %d more requests after release, want 1", len(entered))
		}
		linkIn(t, waitMail(t, o.SMTP, owner, 1))
		if err := o.Onboard.QueuePasswordReset(ctx, "sunrise", owner, account.Meta{}); err != nil {
			t.Errorf("after Close: %v", err)
		}
		if got := droppedResets(t, o.Registry); got != 2 {
			t.Errorf("dropped after Close = %v, want 2", got)
		}
		if err := o.Onboard.WaitPasswordResets(cctx); err != nil {
			t.Error(err)
		}
	})
}
