package adminapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// TestFailDatabaseFaults is issue 21 point 3 for the admin API: a database
// that cannot be reached or cannot save answers 503 unavailable with
// Retry-After (never 500 internal), with a message saying what happened.
func TestFailDatabaseFaults(t *testing.T) {
	a := &API{d: Deps{Logger: slog.New(slog.DiscardHandler)}}
	tests := []struct {
		name       string
		err        error
		status     int
		retryAfter string
		message    string
	}{
		{"disk full", fmt.Errorf("store: create invitation: %w", &pgconn.PgError{Code: "53100"}), 503, "60",
			"temporarily unable to save changes"},
		{"read-only standby", &pgconn.PgError{Code: "25006"}, 503, "60", "temporarily unable to save changes"},
		{"database unreachable", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}, 503, "5",
			"cannot reach its database"},
		{"a bug", errors.New("boom"), 500, "", "Something went wrong"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			a.fail(rec, httptest.NewRequest(http.MethodPost, "/api/v1/practices/p/invitations", nil), tt.err)
			var body map[string]string
			_ = json.Unmarshal(rec.Body.Bytes(), &body)
			if rec.Code != tt.status || rec.Header().Get("Retry-After") != tt.retryAfter ||
				!strings.Contains(body["message"], tt.message) {
				t.Errorf("%d Retry-After=%q %v; want %d, %q, %q", rec.Code, rec.Header().Get("Retry-After"), body,
					tt.status, tt.retryAfter, tt.message)
			}
		})
	}
}
