package apptest_test

import (
	"net/http"
	"testing"

	"github.com/frontdeskhq/frontdesk/identity/app/apptest"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
)

// TestKit: on each engine the kit serves a frontdesk in which a practice's
// owner and an added member with a role sign in through the login form and
// get an access token through the code flow; a wrong password does not.
func TestKit(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			f := apptest.New(t, apptest.Engine(engine))
			p := f.CreatePractice("sunrise", "owner@sunrise.example")
			id := f.AddMember("sunrise", "clin@sunrise.example", "Cleo Clinician", []string{"scheduler"})
			if m, err := f.App.Store.MemberByID(f.Ctx, p.ID, id); err != nil || m.Email != "clin@sunrise.example" {
				t.Fatalf("added member: %+v, %v", m, err)
			}
			tests := []struct {
				email, pw string
				want      int
			}{
				{"owner@sunrise.example", apptest.Password, http.StatusSeeOther},
				{"clin@sunrise.example", apptest.Password, http.StatusSeeOther},
				{"clin@sunrise.example", "not the password at all", http.StatusUnauthorized},
			}
			for _, tt := range tests {
				if got := f.Browser().Login("sunrise", tt.email, tt.pw); got != tt.want {
					t.Errorf("login %s: %d, want %d", tt.email, got, tt.want)
				}
			}
			if tok := f.Token("sunrise", "owner@sunrise.example", apptest.ConsoleClient); tok == "" {
				t.Error("no access token")
			}
		})
	}
}
