package adminapi

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/oidc"
	"github.com/frontdeskhq/frontdesk/identity/onboarding"
	"github.com/frontdeskhq/frontdesk/identity/problem"
	"github.com/frontdeskhq/frontdesk/identity/roles"
)

// TestFailMapsEveryKind is issue 15 point 2: fail maps each problem.Kind to
// one status, with the problem's code (or the kind's) and public text.
func TestFailMapsEveryKind(t *testing.T) {
	for _, tt := range []struct {
		kind   problem.Kind
		status int
		code   string
	}{
		{problem.Invalid, 400, "invalid_request"},
		{problem.Forbidden, 403, "forbidden"},
		{problem.NotFound, 404, "not_found"},
		{problem.Conflict, 409, "conflict"},
		{problem.Unavailable, 503, "unavailable"},
		{problem.Internal, 500, "internal"},
	} {
		t.Run(tt.kind.String(), func(t *testing.T) {
			if got := kindStatus(tt.kind); got != tt.status {
				t.Errorf("kindStatus = %d, want %d", got, tt.status)
			}
			status, body := failWith(t, problem.New(tt.kind, "", "test: internal detail", ""))
			if status != tt.status || body["error"] != tt.code || body["message"] == "" || body["message"] == "test: internal detail" {
				t.Errorf("got %d %v; want %d %q with a public message", status, body, tt.status, tt.code)
			}
			if tt.kind == problem.Internal {
				return
			}
			status, body = failWith(t, fmt.Errorf("ctx: %w", problem.New(tt.kind, "own_code", "test: x", "Public text")))
			want := "Public text"
			if tt.kind == problem.Forbidden {
				want = "You are not allowed to do this in this practice." // no reason given
			}
			if status != tt.status || body["error"] != "own_code" || body["message"] != want {
				t.Errorf("got %d %v; want %d own_code %q", status, body, tt.status, want)
			}
		})
	}
}

// TestFailDomainErrors pins the status, code and message of the services'
// errors, including the reasons once cut out of err.Error().
func TestFailDomainErrors(t *testing.T) {
	for _, tt := range []struct {
		name    string
		err     error
		status  int
		code    string
		message string
	}{
		{"forbidden with reason", fmt.Errorf("ctx: %w", problem.New(problem.Forbidden, "", "test: x", "not allowed").Withf("r")),
			403, "forbidden", "Not allowed: r."},
		{"account forbidden bare", account.ErrForbidden, 403, "forbidden", "You are not allowed to do this in this practice."},
		{"account forbidden reason", fmt.Errorf("x: %w", account.ErrForbidden.Withf("this needs the %s permission", "members.manage")),
			403, "forbidden", "Not allowed: this needs the members.manage permission."},
		{"roles forbidden through account", account.ErrForbidden.Wrap(roles.ErrForbidden.Withf("you cannot restore a.b to this member because you do not hold it")),
			403, "forbidden", "Not allowed: you cannot restore a.b to this member because you do not hold it."},
		{"delegation refusal says its sentence", account.ErrForbidden.Wrap(roles.ErrForbidden.Sayf("You can't give the %s role; ask the practice owner.", "Biller")),
			403, "forbidden", "You can't give the Biller role; ask the practice owner."},
		{"account member", account.ErrMemberNotFound, 404, "not_found", "There is no such member in this practice."},
		{"roles member", roles.ErrMemberNotFound, 404, "not_found", "There is no such member in this practice."},
		{"invitation", onboarding.ErrInvitationNotFound, 404, "not_found", "There is no such invitation in this practice."},
		{"last manager", roles.ErrLastManager, 409, "last_manager",
			"The practice must keep at least one member who can manage members and assign roles. Give someone else those roles first."},
		{"already member", onboarding.ErrAlreadyMember, 409, "already_member", "This address already belongs to an active member of the practice."},
		{"invitation closed", onboarding.ErrInvitationClosed, 409, "invitation_closed",
			"The invitation was already accepted or revoked. Invite the person again if they still need access."},
		{"not deactivated", account.ErrNotDeactivated, 409, "not_deactivated", "The member is not deactivated; there is nothing to reactivate."},
		{"no credential", account.ErrNoCredential, 409, "no_credential",
			"The member never set a password or passkey; send them a new invitation instead."},
		{"roles invalid", roles.ErrInvalid.Withf("no such practice"), 400, "invalid_request", "invalid request: no such practice"},
		{"roles constraint", roles.ErrConstraint.Withf("A requires B; assign B too"), 400, "invalid_request",
			"role constraint not met: A requires B; assign B too"},
		{"roles invalid role", roles.ErrInvalidRole.Withf("key %q is used twice", "x"), 400, "invalid_request", `invalid role: key "x" is used twice`},
		{"roles bad permission", roles.ErrBadPermission.Withf("%q has an unknown scope", "a.b:c"), 400, "invalid_request",
			`not a permission in the catalogue: "a.b:c" has an unknown scope`},
		{"invalid app", oidc.ErrInvalidApp.Withf("list each grant type once"), 400, "invalid_request", "list each grant type once"},
		{"account unavailable", account.ErrBusy, 503, "unavailable", "The service is temporarily unavailable; try again shortly."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, body := failWith(t, tt.err)
			if status != tt.status || body["error"] != tt.code || body["message"] != tt.message {
				t.Errorf("got %d %v; want %d %q %q", status, body, tt.status, tt.code, tt.message)
			}
		})
	}
}

func failWith(t *testing.T, err error) (int, map[string]string) {
	t.Helper()
	a := &API{d: Deps{Logger: slog.New(slog.DiscardHandler)}}
	rec := httptest.NewRecorder()
	a.fail(rec, httptest.NewRequest(http.MethodPost, "/api/v1/practices/p/members", nil), err)
	var body map[string]string
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("body %q: %v", rec.Body.String(), err)
	}
	return rec.Code, body
}
