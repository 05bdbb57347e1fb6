package oidc

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/frontdeskhq/frontdesk/identity/store"
)

// How the token endpoint answers failures: an unreachable database is a 503
// with Retry-After that leaves the refresh family alone; a missing practice
// or member refuses the grant (and ends the family); anything else is a 500.
func TestTokenEndpointFailures(t *testing.T) {
	unreachable := fmt.Errorf("store: member: %w", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")})
	tests := []struct {
		name    string
		err     error
		status  int
		kind    string
		refused bool
	}{
		{"database unreachable", grantReadError(unreachable), http.StatusServiceUnavailable, "server_error", false},
		{"member gone", grantReadError(fmt.Errorf("store: member: %w", store.ErrNotFound)), http.StatusBadRequest, "invalid_grant", true},
		{"other failure", serverError(errors.New("disk full")), http.StatusInternalServerError, "server_error", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := refusedGrant(tt.err); got != tt.refused {
				t.Errorf("refusedGrant = %v, want %v", got, tt.refused)
			}
			rec := httptest.NewRecorder()
			w := answerWriter{ResponseWriter: rec}
			op.WriteError(w, httptest.NewRequest(http.MethodPost, "/oauth2/token", nil), tt.err, nil)
			if rec.Code != tt.status {
				t.Errorf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			if (rec.Header().Get("Retry-After") != "") != (tt.status == http.StatusServiceUnavailable) {
				t.Errorf("Retry-After %q with status %d", rec.Header().Get("Retry-After"), rec.Code)
			}
			var oe *oidc.Error
			if !errors.As(tt.err, &oe) || string(oe.ErrorType) != tt.kind {
				t.Errorf("error type %v, want %s", oe, tt.kind)
			}
		})
	}
}

// TestAuthorizeServerError is issue 21 point 4: the authorization endpoint
// answers a database outage (unreachable, or unable to save) with RFC 6749's
// temporarily_unavailable, and only other failures with server_error.
func TestAuthorizeServerError(t *testing.T) {
	tests := []struct {
		name   string
		parent error
		want   string
	}{
		{"database unreachable", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}, "temporarily_unavailable"},
		{"postgres shutting down", &pgconn.PgError{Code: "57P01"}, "temporarily_unavailable"},
		{"disk full", fmt.Errorf("store: create auth request: %w", &pgconn.PgError{Code: "53100"}), "temporarily_unavailable"},
		{"read-only standby", &pgconn.PgError{Code: "25006"}, "temporarily_unavailable"},
		{"a bug", errors.New("json: unsupported value"), "server_error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := authorizeServerError(oidc.ErrServerError().WithParent(tt.parent))
			if string(got.ErrorType) != tt.want || got.Parent != tt.parent {
				t.Errorf("error = %s (parent %v), want %s", got.ErrorType, got.Parent, tt.want)
			}
		})
	}
	if e := authorizeServerError(oidc.ErrInvalidRequest()); e.ErrorType != oidc.InvalidRequest {
		t.Errorf("a request error became %s", e.ErrorType)
	}
}
