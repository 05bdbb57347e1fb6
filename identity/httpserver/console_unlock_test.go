package httpserver_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/frontdeskhq/frontdesk/identity/app/apptest"
	"github.com/frontdeskhq/frontdesk/identity/store"
)

// Every holder of the unlock permission gets the lockout mail, so its
// "Review and unlock" link is often followed after someone else unlocked the
// member. The console then says the member is not locked and offers no
// Unlock button, and an unlock posted anyway says nothing was changed and no
// email was sent — never "unlocked and has been emailed".
func TestUnlockOfAMemberNotLocked(t *testing.T) {
	h := newConsoleSite(t, store.SQLite)
	clin := h.IDs["clin@sunrise.example"]
	for range 3 {
		h.Browser().Login("sunrise", "clin@sunrise.example", "wrong password entirely")
	}
	owner := h.Browser()
	if st := owner.Login("sunrise", "owner@sunrise.example", apptest.Password); st != http.StatusSeeOther {
		t.Fatalf("owner login: %d", st)
	}
	confirm := "/p/sunrise/admin/members/" + clin + "/unlock"
	if st, _, page := owner.Do("GET", confirm, nil, false); st != http.StatusOK || !strings.Contains(page, `method="post"`) {
		t.Fatalf("unlock confirmation of a locked member: %d\n%s", st, page)
	}
	if st, loc, _ := owner.Do("POST", confirm, url.Values{}, true); st != http.StatusSeeOther || !strings.HasSuffix(loc, "done=unlocked") {
		t.Fatalf("unlock: %d %s", st, loc)
	}

	// The mail's link, followed again.
	st, _, page := owner.Do("GET", confirm, nil, false)
	if st != http.StatusOK || !strings.Contains(page, "Cleo Clinician is not locked") || strings.Contains(page, `method="post"`) ||
		!strings.Contains(page, "no email was sent") || !strings.Contains(page, `href="/p/sunrise/admin/members/`+clin+`"`) {
		t.Errorf("unlock confirmation of a member not locked: %d\n%s", st, page)
	}
	// A second unlock posted (a page left open in another tab).
	for _, ret := range []string{"", "member"} {
		st, loc, _ := owner.Do("POST", confirm, url.Values{"return": {ret}}, true)
		if st != http.StatusSeeOther || !strings.HasSuffix(loc, "done=notlocked") {
			t.Fatalf("second unlock (return %q): %d %s", ret, st, loc)
		}
		_, _, page := owner.Do("GET", loc, nil, false)
		if strings.Contains(page, "has been emailed") || !strings.Contains(page, "The member was not locked.") {
			t.Errorf("notice after the second unlock (return %q):\n%s", ret, page)
		}
	}
	// A member who is not locked because they never accepted their
	// invitation: the page does not claim they can log in.
	if st, _, _ := owner.Do("POST", "/p/sunrise/admin/invite", url.Values{"email": {"new@sunrise.example"}, "role": {"scheduler"}}, true); st != http.StatusSeeOther {
		t.Fatalf("invite: %d", st)
	}
	invited, err := h.App.Store.MemberByEmail(h.Ctx, h.sunrise.ID, "new@sunrise.example")
	if err != nil {
		t.Fatal(err)
	}
	st, _, page = owner.Do("GET", "/p/sunrise/admin/members/"+invited.ID+"/unlock", nil, false)
	if st != http.StatusOK || !strings.Contains(page, "is not locked") || strings.Contains(page, "can log in") {
		t.Errorf("unlock confirmation of an invited member: %d\n%s", st, page)
	}
}
