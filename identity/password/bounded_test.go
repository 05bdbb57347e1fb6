package password

import (
	"context"
	"errors"
	"testing"
	"time"
)

var boundedTestParams = Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1}

// fill takes every slot of h, as hashes in progress would.
func fill(h *Hasher) func() {
	for range cap(h.sem) {
		h.sem <- struct{}{}
	}
	return func() {
		for range cap(h.sem) {
			<-h.sem
		}
	}
}

func TestBoundedHasherRefusesBeyondQueue(t *testing.T) {
	ctx := context.Background()
	h := NewBoundedHasher(boundedTestParams, 1, 1, 0)
	enc, err := h.Hash(ctx, "a long enough password")
	if err != nil {
		t.Fatal(err)
	}
	release := fill(h)
	queued := make(chan struct{}, 10)
	h.queued = func() { queued <- struct{}{} }
	// One caller may wait; it gets the slot once the hash in progress ends.
	waited := make(chan error, 1)
	go func() {
		ok, _, err := h.Verify(ctx, enc, "a long enough password")
		if err == nil && !ok {
			err = errors.New("correct password not accepted")
		}
		waited <- err
	}()
	select {
	case <-queued:
	case err := <-waited:
		t.Fatalf("the first caller did not wait for the slot: %v", err)
	}
	if n := h.waiting.Load(); n != 1 {
		t.Fatalf("waiting = %d with one caller waiting", n)
	}
	// The queue is full: the next caller is refused at once, whatever it asks.
	for name, call := range map[string]func() error{
		"verify": func() error { _, _, err := h.Verify(ctx, enc, "x"); return err },
		"hash":   func() error { _, err := h.Hash(ctx, "x"); return err },
		"dummy":  func() error { return h.VerifyDummyErr(ctx, "x") },
	} {
		if err := call(); !errors.Is(err, ErrBusy) {
			t.Errorf("%s beyond the queue: err = %v, want ErrBusy", name, err)
		}
	}
	release()
	if err := <-waited; err != nil {
		t.Fatalf("queued caller: %v", err)
	}
	if n := h.waiting.Load(); n != 0 {
		t.Fatalf("waiting = %d after the queue drained", n)
	}
}

func TestBoundedHasherMaxWait(t *testing.T) {
	tests := []struct {
		name    string
		queue   int
		maxWait time.Duration
		ctx     func() (context.Context, context.CancelFunc)
		want    error
	}{
		{"wait bounded", 0, 10 * time.Millisecond, func() (context.Context, context.CancelFunc) {
			return context.WithCancel(context.Background())
		}, ErrBusy},
		{"context ends first", 8, time.Hour, func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 10*time.Millisecond)
		}, context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := NewBoundedHasher(boundedTestParams, 2, tt.queue, tt.maxWait)
			release := fill(h)
			defer release()
			ctx, cancel := tt.ctx()
			defer cancel()
			if _, err := h.Hash(ctx, "a long enough password"); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestUnboundedHasherNeverBusy(t *testing.T) {
	h := NewHasher(boundedTestParams, 1)
	release := fill(h)
	queued := make(chan struct{}, 1)
	h.queued = func() { queued <- struct{}{} }
	done := make(chan error, 1)
	go func() { _, err := h.Hash(context.Background(), "a long enough password"); done <- err }()
	select { // it waits for the slot rather than being refused
	case <-queued:
	case err := <-done:
		t.Fatalf("unbounded hasher did not wait for the slot: %v", err)
	}
	release()
	if err := <-done; err != nil {
		t.Fatalf("unbounded hasher: %v", err)
	}
}
