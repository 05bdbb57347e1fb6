package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

func TestIsUnavailable(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"not found", ErrNotFound, false},
		{"plain error", errors.New("boom"), false},
		{"bad conn", fmt.Errorf("store: x: %w", driver.ErrBadConn), true},
		{"deadline", fmt.Errorf("store: x: %w", context.DeadlineExceeded), true},
		{"dial refused", fmt.Errorf("store: x: %w", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}), true},
		{"pg admin shutdown", fmt.Errorf("store: x: %w", &pgconn.PgError{Code: "57P01"}), true},
		{"pg connection failure", &pgconn.PgError{Code: "08006"}, true},
		{"pg unique violation", &pgconn.PgError{Code: "23505"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsUnavailable(tt.err); got != tt.want {
				t.Errorf("IsUnavailable(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}
