package account

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"
)

// refusalSamples is how many recent refusal durations the delay of a refusal
// that evaluated no hash is drawn from.
const refusalSamples = 64

// refusalTimes keeps the durations of the most recent login refusals that
// evaluated a password hash (a wrong password, or the dummy hash of an
// unknown or inactive account), measured from before the lockout guard is
// consulted to the answer. A refusal past the lockout threshold evaluates no
// hash; it waits for a duration drawn from these instead, so its answer
// takes as long as any other refusal — under the same load, since the
// samples include the wait for a hashing slot — without spending the CPU.
type refusalTimes struct {
	mu   sync.Mutex
	ring [refusalSamples]time.Duration
	n    int // samples recorded so far (the ring holds min(n, len) of them)
}

// add records one refusal's duration.
func (r *refusalTimes) add(d time.Duration) {
	if d < 0 {
		d = 0
	}
	r.mu.Lock()
	r.ring[r.n%refusalSamples] = d
	r.n++
	r.mu.Unlock()
}

// draw returns one of the recorded durations, chosen uniformly, so the
// delays follow the distribution of real refusals; false when none is
// recorded yet.
func (r *refusalTimes) draw() (time.Duration, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.n == 0 {
		return 0, false
	}
	return r.ring[rand.IntN(min(r.n, refusalSamples))], true
}

// sleep waits for d on a timer, or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// refuseCounted answers an attempt the lockout guard refused past the
// threshold, begun at start: it waits until a refusal that evaluated a hash
// would have answered (a duration drawn from recent ones), so the answer's
// timing does not tell that the account's count is past the threshold.
// Until one was measured it evaluates the dummy hash instead — once per
// process in practice — and that refusal becomes the first sample.
func (s *Service) refuseCounted(ctx context.Context, start time.Time, pw string) {
	d, ok := s.refusals.draw()
	if !ok {
		if err := s.verifyDummy(ctx, pw); err == nil {
			s.refusals.add(s.d.Now().Sub(start))
		}
		return
	}
	if err := s.d.Wait(ctx, d-s.d.Now().Sub(start)); err != nil {
		s.d.Logger.DebugContext(ctx, "counted refusal answered early: the request ended", "err", err)
	}
}
