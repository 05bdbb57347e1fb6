package invites_test

import (
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/invites"
)

func TestBackoff(t *testing.T) {
	w, err := invites.NewWorker(nopOutbox{}, nopSender{}, invites.WorkerConfig{ID: "w", BaseBackoff: 30 * time.Second,
		MaxBackoff: 10 * time.Minute}, nil, nil, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		attempts int
		want     time.Duration
	}{
		{0, 30 * time.Second}, {1, 30 * time.Second}, {2, time.Minute}, {3, 2 * time.Minute}, {5, 8 * time.Minute},
		{6, 10 * time.Minute}, {60, 10 * time.Minute}, {5000, 10 * time.Minute},
	}
	for _, tt := range tests {
		if got := w.Backoff(tt.attempts); got != tt.want {
			t.Errorf("Backoff(%d) = %s, want %s", tt.attempts, got, tt.want)
		}
	}
	if _, err := invites.NewWorker(nopOutbox{}, nopSender{}, invites.WorkerConfig{}, nil, nil, time.Now); err == nil {
		t.Error("a worker without an ID was built")
	}
}

type nopOutbox struct{ invites.Outbox }

type nopSender struct{ invites.Sender }
