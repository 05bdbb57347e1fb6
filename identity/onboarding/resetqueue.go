package onboarding

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/frontdeskhq/frontdesk/identity/account"
)

// DefaultResetQueueSize is how many "forgot password" requests may wait for
// the background worker when Settings.ResetQueueSize is zero.
const DefaultResetQueueSize = 256

// resetJobTimeout bounds the work for one queued reset request.
const resetJobTimeout = 30 * time.Second

// resetJob is one "forgot password" request waiting for the worker.
type resetJob struct {
	ctx          context.Context // the request's values, without its cancellation
	practiceSlug string
	email        string
	meta         account.Meta
}

// resetQueue runs "forgot password" requests after the answer was sent, on one
// background worker fed by a bounded queue, so the time of the answer does not
// depend on whether the address belongs to a member. One worker also makes the
// "one link per minute" rule race-free.
type resetQueue struct {
	mu      sync.Mutex
	jobs    chan resetJob
	started bool
	closed  bool
	pending int
	idle    chan struct{} // closed while pending == 0
	stop    context.Context
	cancel  context.CancelFunc
	done    chan struct{} // closed when the worker has exited
	dropped prometheus.Counter
	// before, when set (tests), runs before each job is worked.
	before func()
}

func newResetQueue(size int, before func()) *resetQueue {
	if size <= 0 {
		size = DefaultResetQueueSize
	}
	idle := make(chan struct{})
	close(idle)
	stop, cancel := context.WithCancel(context.Background())
	return &resetQueue{
		jobs: make(chan resetJob, size), idle: idle, stop: stop, cancel: cancel, done: make(chan struct{}),
		before: before,
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "frontdesk_password_reset_requests_dropped_total",
			Help: "Forgot-password requests dropped because the background queue was full or shut down.",
		}),
	}
}

// QueuePasswordReset is RequestPasswordReset for the web: it checks the
// practice and the address's form, queues the rest for a background worker
// and returns at once. The request path reads the practice and nothing about
// members and writes nothing, so its work and time are the same whether or
// not the address belongs to a member. When the queue is full (or the service
// is shutting down) the request is dropped with a warning and a metric, and
// the answer is still nil: the caller shows the same page either way.
func (s *Service) QueuePasswordReset(ctx context.Context, practiceSlug, email string, meta account.Meta) error {
	if _, err := s.acc.Practice(ctx, practiceSlug); err != nil {
		return err
	}
	addr, err := account.ParseEmail(email)
	if err != nil {
		return err
	}
	q := s.resets
	job := resetJob{ctx: context.WithoutCancel(ctx), practiceSlug: practiceSlug, email: addr, meta: meta}
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		s.droppedReset(ctx, practiceSlug, "shutting_down")
		return nil
	}
	select {
	case q.jobs <- job:
		if q.pending == 0 {
			q.idle = make(chan struct{})
		}
		q.pending++
		if !q.started {
			q.started = true
			go s.resetWorker()
		}
		q.mu.Unlock()
	default:
		q.mu.Unlock()
		s.droppedReset(ctx, practiceSlug, "queue_full")
	}
	return nil
}

func (s *Service) droppedReset(ctx context.Context, practiceSlug, reason string) {
	s.resets.dropped.Inc()
	// The address is not logged: the log must not become a list of guesses.
	s.d.Logger.WarnContext(ctx, "password reset request dropped", "practice", practiceSlug, "reason", reason)
}

func (s *Service) resetWorker() {
	q := s.resets
	defer close(q.done)
	for job := range q.jobs {
		s.runResetJob(job)
		q.mu.Lock()
		q.pending--
		if q.pending == 0 {
			close(q.idle)
		}
		q.mu.Unlock()
	}
}

func (s *Service) runResetJob(job resetJob) {
	q := s.resets
	if q.before != nil {
		q.before()
	}
	ctx, cancel := context.WithTimeout(job.ctx, resetJobTimeout)
	defer cancel()
	stop := context.AfterFunc(q.stop, cancel)
	defer stop()
	if err := s.RequestPasswordReset(ctx, job.practiceSlug, job.email, job.meta); err != nil {
		s.d.Logger.ErrorContext(ctx, "password reset request failed", "practice", job.practiceSlug, "err", err)
	}
}

// WaitPasswordResets waits until every queued "forgot password" request has
// been worked, or ctx ends. Tests use it before looking for the mail.
func (s *Service) WaitPasswordResets(ctx context.Context) error {
	q := s.resets
	q.mu.Lock()
	idle := q.idle
	q.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops taking "forgot password" requests (later ones are dropped with
// a warning) and waits for the queued ones to be worked. When ctx ends first,
// the work in progress is cancelled and Close returns ctx's error. Graceful
// shutdown calls it after the HTTP server has stopped.
func (s *Service) Close(ctx context.Context) error {
	q := s.resets
	q.mu.Lock()
	if !q.closed {
		q.closed = true
		close(q.jobs)
		if !q.started {
			q.started = true
			close(q.done)
		}
	}
	q.mu.Unlock()
	select {
	case <-q.done:
		q.cancel()
		return nil
	case <-ctx.Done():
		q.cancel()
		return ctx.Err()
	}
}
