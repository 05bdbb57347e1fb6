package invites

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Outgoing is one outbox row claimed for delivery.
type Outgoing struct {
	// ID is the row's key; the message's Message-ID is derived from it, so
	// every attempt to deliver the row carries the same Message-ID.
	ID string
	// Kind says what the message is ("invitation", "reset", ...), for logs and
	// metrics; never a secret.
	Kind string
	// Attempts counts delivery attempts including this one.
	Attempts int
	Message  Message
}

// Outbox is the durable queue the Worker drains. identity/store implements it
// on SQLite and PostgreSQL. Every method that changes a row names the worker
// that claimed it, so a worker whose lease ran out cannot overwrite the
// outcome recorded by the one that reclaimed the row.
type Outbox interface {
	// ClaimOutbox atomically claims up to limit due rows for worker until
	// now+lease and counts the attempt. A row is claimed by exactly one
	// worker at a time, across every replica sharing the database.
	ClaimOutbox(ctx context.Context, worker string, now time.Time, lease time.Duration, limit int) ([]Outgoing, error)
	// RenewOutbox extends to now+lease the claim of every undelivered row
	// worker holds, while it is still sending them, and reports how many.
	RenewOutbox(ctx context.Context, worker string, now time.Time, lease time.Duration) (int64, error)
	// MarkOutboxSent records delivery and erases the message body (it
	// carries a live link or a temporary password).
	MarkOutboxSent(ctx context.Context, id, worker string, now time.Time) error
	// MarkOutboxRetry releases the claim and schedules the next attempt.
	MarkOutboxRetry(ctx context.Context, id, worker string, next time.Time, lastErr string) error
	// MarkOutboxFailed gives up on the row: it is kept, marked failed (and the
	// invitation it belongs to shows "delivery failed"), its body erased.
	MarkOutboxFailed(ctx context.Context, id, worker string, now time.Time, lastErr string) error
	// CountOutboxPending reports how many rows wait for delivery.
	CountOutboxPending(ctx context.Context) (int, error)
}

// WorkerConfig tunes a Worker. Zero values take the defaults in
// DefaultWorkerConfig.
type WorkerConfig struct {
	// ID names this worker (one per replica); claims carry it.
	ID string
	// Poll is how often the outbox is checked when nothing wakes the worker.
	Poll time.Duration
	// Lease is how long a claim lasts without renewal. The worker renews its
	// claims every Lease/3 while it sends a batch, so a slow mail server
	// never lets a claim lapse mid-batch; a worker that dies leaves its rows
	// to be retaken by another worker at most Lease later.
	Lease time.Duration
	// SendTimeout bounds one delivery attempt.
	SendTimeout time.Duration
	// After, when set, replaces time.After for the renewal timer (tests
	// inject a clock together with the worker's now).
	After func(time.Duration) <-chan time.Time
	// BaseBackoff is the wait after the first failed attempt; each further
	// failure doubles it, up to MaxBackoff.
	BaseBackoff time.Duration
	MaxBackoff  time.Duration
	// MaxAttempts is the retry limit: after this many failed attempts the
	// row is marked failed.
	MaxAttempts int
	// Batch is how many rows one claim takes.
	Batch int
}

// DefaultWorkerConfig returns the production defaults.
func DefaultWorkerConfig() WorkerConfig {
	return WorkerConfig{Poll: 2 * time.Second, Lease: 30 * time.Second, SendTimeout: 2 * time.Minute,
		BaseBackoff: 30 * time.Second, MaxBackoff: time.Hour, MaxAttempts: 10, Batch: 20}
}

// Worker delivers the outbox through a Sender with exponential back-off and
// a retry limit. Run one per replica; the Outbox's claims keep them apart.
type Worker struct {
	o             Outbox
	s             Sender
	cfg           WorkerConfig
	logger        *slog.Logger
	now           func() time.Time
	wake          chan struct{}
	sent          prometheus.Counter
	retries       prometheus.Counter
	failed        prometheus.Counter
	pending       prometheus.Gauge
	renewFailures prometheus.Counter
}

// NewWorker returns a Worker. reg may be nil (no metrics registered).
func NewWorker(o Outbox, s Sender, cfg WorkerConfig, logger *slog.Logger, reg prometheus.Registerer,
	now func() time.Time) (*Worker, error) {
	if o == nil || s == nil || now == nil {
		return nil, errors.New("invites: worker needs an outbox, a sender and a clock")
	}
	if cfg.ID == "" {
		return nil, errors.New("invites: worker needs an ID")
	}
	def := DefaultWorkerConfig()
	if cfg.Poll <= 0 {
		cfg.Poll = def.Poll
	}
	if cfg.Lease <= 0 {
		cfg.Lease = def.Lease
	}
	if cfg.SendTimeout <= 0 {
		cfg.SendTimeout = def.SendTimeout
	}
	if cfg.After == nil {
		cfg.After = time.After
	}
	if cfg.BaseBackoff <= 0 {
		cfg.BaseBackoff = def.BaseBackoff
	}
	if cfg.MaxBackoff < cfg.BaseBackoff {
		cfg.MaxBackoff = max(def.MaxBackoff, cfg.BaseBackoff)
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = def.MaxAttempts
	}
	if cfg.Batch <= 0 {
		cfg.Batch = def.Batch
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	w := &Worker{o: o, s: s, cfg: cfg, logger: logger, now: now, wake: make(chan struct{}, 1),
		sent: prometheus.NewCounter(prometheus.CounterOpts{Name: "frontdesk_mail_sent_total",
			Help: "Outbox messages delivered to the mail transport."}),
		retries: prometheus.NewCounter(prometheus.CounterOpts{Name: "frontdesk_mail_attempt_failures_total",
			Help: "Failed delivery attempts that will be retried."}),
		failed: prometheus.NewCounter(prometheus.CounterOpts{Name: "frontdesk_mail_failed_total",
			Help: "Outbox messages given up on after the retry limit (shown as delivery failed)."}),
		pending: prometheus.NewGauge(prometheus.GaugeOpts{Name: "frontdesk_mail_outbox_pending",
			Help: "Outbox messages waiting for delivery, as last seen by this replica's worker."}),
		renewFailures: prometheus.NewCounter(prometheus.CounterOpts{Name: "frontdesk_mail_lease_renewal_failures_total",
			Help: "Failed renewals of this worker's outbox claims while sending (a claim that lapses may be sent twice)."}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{w.sent, w.retries, w.failed, w.pending, w.renewFailures} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("invites: metrics: %w", err)
			}
		}
	}
	return w, nil
}

// Notify wakes the worker early (after a message was queued). It never blocks.
func (w *Worker) Notify() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run delivers messages until ctx ends. Errors reaching the database are
// logged and retried at the next poll.
func (w *Worker) Run(ctx context.Context) {
	t := time.NewTicker(w.cfg.Poll)
	defer t.Stop()
	for {
		for {
			n, err := w.RunOnce(ctx)
			if err != nil {
				if ctx.Err() == nil {
					w.logger.ErrorContext(ctx, "mail outbox unavailable; will retry", "err", err)
				}
				break
			}
			if n < w.cfg.Batch {
				break
			}
		}
		if n, err := w.o.CountOutboxPending(ctx); err == nil {
			w.pending.Set(float64(n))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-w.wake:
		}
	}
}

// RunOnce claims one batch of due messages and tries to deliver each,
// renewing the batch's claims every Lease/3 until it is done, so no other
// worker takes a message this one is still sending however slow the mail
// server is. It reports how many it claimed.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	rows, err := w.o.ClaimOutbox(ctx, w.cfg.ID, w.now(), w.cfg.Lease, w.cfg.Batch)
	if err != nil {
		return 0, fmt.Errorf("invites: claim outbox: %w", err)
	}
	if len(rows) == 0 {
		return 0, nil
	}
	renewCtx, stopRenewing := context.WithCancel(ctx)
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		w.renew(renewCtx)
	}()
	defer func() {
		stopRenewing()
		<-renewed
	}()
	for _, r := range rows {
		if ctx.Err() != nil {
			// Unsent claims lapse with their lease and are taken up again.
			return len(rows), ctx.Err()
		}
		w.deliver(ctx, r)
	}
	return len(rows), nil
}

// renew extends this worker's claims every Lease/3 until ctx ends. A failed
// renewal is retried at the next tick; two failures in a row still leave a
// third of the lease.
func (w *Worker) renew(ctx context.Context) {
	every := w.cfg.Lease / 3
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.cfg.After(every):
		}
		if _, err := w.o.RenewOutbox(ctx, w.cfg.ID, w.now(), w.cfg.Lease); err != nil && ctx.Err() == nil {
			w.renewFailures.Inc()
			w.logger.WarnContext(ctx, "mail outbox claims not renewed; will retry", "err", err)
		}
	}
}

func (w *Worker) deliver(ctx context.Context, r Outgoing) {
	sendCtx, cancel := context.WithTimeout(ctx, w.cfg.SendTimeout)
	err := w.s.Send(sendCtx, r.Message)
	cancel()
	// Record the outcome even when ctx ends meanwhile.
	rctx := context.WithoutCancel(ctx)
	now := w.now()
	if err == nil {
		w.sent.Inc()
		if err := w.o.MarkOutboxSent(rctx, r.ID, w.cfg.ID, now); err != nil {
			w.logger.ErrorContext(ctx, "mail sent but not marked sent; it may be sent again with the same Message-ID",
				"outbox_id", r.ID, "err", err)
		}
		return
	}
	// The error names the server and the cause, never the message body.
	msg := truncateErr(err.Error(), 500)
	permanent := errors.Is(err, ErrHeaderInjection)
	if permanent || r.Attempts >= w.cfg.MaxAttempts {
		w.logger.ErrorContext(ctx, "mail delivery failed; giving up", "outbox_id", r.ID, "kind", r.Kind,
			"attempts", r.Attempts, "err", msg)
		if err := w.o.MarkOutboxFailed(rctx, r.ID, w.cfg.ID, now, msg); err != nil {
			w.logger.ErrorContext(ctx, "mail failure not recorded", "outbox_id", r.ID, "err", err)
		}
		// Counted once the failure is recorded, so the metric never runs
		// ahead of what the invitation list shows.
		w.failed.Inc()
		return
	}
	w.retries.Inc()
	next := now.Add(w.Backoff(r.Attempts))
	w.logger.WarnContext(ctx, "mail delivery attempt failed; will retry", "outbox_id", r.ID, "kind", r.Kind,
		"attempts", r.Attempts, "next_attempt_at", next, "err", msg)
	if err := w.o.MarkOutboxRetry(rctx, r.ID, w.cfg.ID, next, msg); err != nil {
		w.logger.ErrorContext(ctx, "mail retry not recorded; the claim will lapse", "outbox_id", r.ID, "err", err)
	}
}

// Backoff is the wait after the given number of failed attempts:
// BaseBackoff doubled for each attempt after the first, capped at MaxBackoff.
func (w *Worker) Backoff(attempts int) time.Duration {
	if attempts < 1 {
		attempts = 1
	}
	f := float64(w.cfg.BaseBackoff) * math.Pow(2, float64(attempts-1))
	if f >= float64(w.cfg.MaxBackoff) {
		return w.cfg.MaxBackoff
	}
	return time.Duration(f)
}

func truncateErr(s string, n int) string {
	if len(s) > n {
		s = s[:n]
	}
	return strings.ToValidUTF8(s, "")
}
