package httpserver

import (
	"errors"
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/oidc"
	"github.com/frontdeskhq/frontdesk/identity/onboarding"
	"github.com/frontdeskhq/frontdesk/identity/problem"
	"github.com/frontdeskhq/frontdesk/identity/roles"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/templates"
)

// TestConsoleFailMapsEveryKind is issue 15 point 2 for the console: each
// problem.Kind has one status, and the page shows the public text (never
// the internal one).
func TestConsoleFailMapsEveryKind(t *testing.T) {
	pages, err := templates.ParsePages()
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{d: Deps{Pages: pages, Logger: slog.New(slog.DiscardHandler)}}
	pr := account.Principal{Practice: store.Practice{ID: "p1", Slug: "moon", Name: "Moon"}}
	for _, tt := range []struct {
		name   string
		err    error
		status int
		want   string
	}{
		{"invalid", roles.ErrInvalid.Withf("no such practice"), 400, "Nothing was changed: invalid request: no such practice"},
		{"invalid app", fmt.Errorf("oidc: %w", oidc.ErrInvalidApp.Withf("list each grant type once")), 400,
			"Nothing was changed: list each grant type once"},
		{"forbidden", account.ErrForbidden.Wrap(roles.ErrForbidden.Withf("this needs the %s permission", "roles.assign")), 403,
			"Your roles do not allow this: this needs the “Change staff members' roles"},
		{"forbidden bare", account.ErrForbidden, 403, "Your roles do not allow this: your roles do not include it."},
		{"not found", roles.ErrMemberNotFound, 404, "There is no such member in this practice. Go back and pick another one."},
		{"conflict", onboarding.ErrInvitationClosed, 409,
			"The invitation was already accepted or revoked. Invite the person again if they still need access."},
		{"conflict last manager", roles.ErrLastManager, 409, "Give someone else those roles first."},
		{"unavailable", account.ErrBusy, 500, "Something went wrong on our side"},
		{"internal", problem.New(problem.Internal, "", "test: secret detail", ""), 500, "Something went wrong on our side"},
		{"plain", errors.New("test: secret detail"), 500, "Something went wrong on our side"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			s.consoleFail(rec, httptest.NewRequest(http.MethodPost, "/p/moon/admin/members/m1/roles", nil), pr, tt.err, nil)
			page := html.UnescapeString(rec.Body.String())
			if rec.Code != tt.status || !strings.Contains(page, tt.want) {
				t.Errorf("status %d, page lacks %q:\n%s", rec.Code, tt.want, page)
			}
			if strings.Contains(page, "roles.assign") {
				t.Error("page shows a permission string")
			}
			if strings.Contains(page, "secret detail") || strings.Contains(page, tt.err.Error()) {
				t.Errorf("page shows the internal text %q", tt.err.Error())
			}
		})
	}
}
