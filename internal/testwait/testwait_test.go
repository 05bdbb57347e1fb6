package testwait_test

import (
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/internal/testwait"
)

// TestForReturnsOnceTheConditionHolds: For checks until the condition holds
// and returns then, without failing the test.
func TestForReturnsOnceTheConditionHolds(t *testing.T) {
	calls := 0
	testwait.For(t, time.Minute, "the third check", func() bool { calls++; return calls == 3 })
	if calls != 3 {
		t.Errorf("cond called %d times, want 3", calls)
	}
}

// TestHangGuardIsBeforeTheDeadline: the guard falls before the test's own
// deadline, so a hung wait fails with its reason instead of being killed.
func TestHangGuardIsBeforeTheDeadline(t *testing.T) {
	at := testwait.At(t)
	if deadline, ok := t.Deadline(); ok {
		if !at.Before(deadline) {
			t.Errorf("hang guard %s is not before the deadline %s", at, deadline)
		}
		if testwait.Guard(t) == nil {
			t.Error("a test with a deadline has no guard")
		}
	} else if testwait.Guard(t) != nil {
		t.Error("a test without a deadline has a guard that fires")
	}
	ctx := testwait.Context(t)
	if d, ok := ctx.Deadline(); !ok || d.After(at.Add(time.Second)) {
		t.Errorf("context deadline %v (%v), want about %v", d, ok, at)
	}
}
