package app

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
)

// PurgeExpired removes what has expired and keeps what is still live, on
// both engines.
func TestPurgeExpired(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := &App{Store: s, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
		now := time.Now()

		if _, err := s.IncrLockoutCounter(ctx, "gone", now.Add(-2*time.Hour), now.Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.IncrLockoutCounter(ctx, "live", now, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ReserveIdempotencyKey(ctx, "p", "actor", "old", "h", now.Add(-25*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ReserveIdempotencyKey(ctx, "p", "actor", "fresh", "h", now.Add(-time.Minute)); err != nil {
			t.Fatal(err)
		}

		removed, err := a.PurgeExpired(ctx, now)
		if err != nil {
			t.Fatalf("PurgeExpired: %v", err)
		}
		if removed < 2 {
			t.Errorf("removed %d rows, want at least the expired counter and the old key", removed)
		}
		if n, _, err := s.PeekLockoutCounter(ctx, "live", now); err != nil || n != 1 {
			t.Errorf("live counter = %d, %v; want 1", n, err)
		}
		if n, _, err := s.PeekLockoutCounter(ctx, "gone", now); err != nil || n != 0 {
			t.Errorf("expired counter = %d, %v; want 0", n, err)
		}
		// The fresh key still answers as in flight; the old one can be
		// reserved again.
		if _, err := s.ReserveIdempotencyKey(ctx, "p", "actor", "old", "h", now); err != nil {
			t.Errorf("old key not purged: %v", err)
		}
		if _, err := s.ReserveIdempotencyKey(ctx, "p", "actor", "fresh", "h", now); err == nil {
			t.Error("fresh key was purged")
		}
	})
}

// go-redis's own messages end up as structured records.
func TestRedisLoggerIsStructured(t *testing.T) {
	var buf strings.Builder
	l := redisLogger{logger: slog.New(slog.NewJSONHandler(&buf, nil))}
	l.Printf(context.Background(), "redis: dial %s: %v", "127.0.0.1:1", "connection refused")
	var rec map[string]any
	if err := json.Unmarshal([]byte(buf.String()), &rec); err != nil {
		t.Fatalf("not JSON: %q: %v", buf.String(), err)
	}
	if rec["detail"] != "redis: dial 127.0.0.1:1: connection refused" || rec["level"] != "WARN" {
		t.Errorf("record = %v", rec)
	}
}
