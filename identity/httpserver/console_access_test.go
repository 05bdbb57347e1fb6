package httpserver_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/frontdeskhq/frontdesk/identity/app/apptest"
	"github.com/frontdeskhq/frontdesk/identity/roles"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
)

var endElevationAction = regexp.MustCompile(`action="(/p/sunrise/admin/members/[^"]+/elevations/[^"]+/end)"`)

// The member page's supervisors, member options, overrides and emergency
// access forms, driven like a browser without JavaScript, on both engines.
func TestConsoleMemberAccess(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			h := newConsoleSite(t, engine)
			h.AddMember("sunrise", "sup@sunrise.example", "Sam Supervisor", []string{"supervisor"})
			clin, sup := h.IDs["clin@sunrise.example"], h.IDs["sup@sunrise.example"]
			owner := h.Browser()
			if st := owner.Login("sunrise", "owner@sunrise.example", apptest.Password); st != http.StatusSeeOther {
				t.Fatalf("owner login: %d", st)
			}
			nobody := h.Browser()
			if st := nobody.Login("sunrise", "nobody@sunrise.example", apptest.Password); st != http.StatusSeeOther {
				t.Fatalf("nobody login: %d", st)
			}
			page := "/p/sunrise/admin/members/" + clin

			// Every new input has a label.
			st, _, body := owner.Do("GET", page, nil, false)
			if st != 200 {
				t.Fatalf("member page: %d", st)
			}
			for _, want := range []string{`<label for="sup-` + sup + `">`, `<label for="sup-notes-` + sup + `">`,
				`<label for="opt-no_billing">`, `<label for="add-permission">`, `<label for="add-effect">`,
				`<label for="elev-duration">`, `<label for="elev-reason">`, `<label for="elev-confirm">`,
				`<label for="elev-clinical_notes.view:all">`} {
				if !strings.Contains(body, want) {
					t.Errorf("member page lacks %s", want)
				}
			}
			for _, id := range regexp.MustCompile(`<(?:input|select|textarea) [^>]*id="([^"]+)"`).FindAllStringSubmatch(body, -1) {
				if !strings.Contains(body, `for="`+id[1]+`"`) {
					t.Errorf("input %s has no label", id[1])
				}
			}

			forms := []struct {
				name, path string
				form       url.Values
				origin     bool
				who        *apptest.Browser
				status     int
				check      func() bool
			}{
				{"supervisors without Origin", "/supervisors", url.Values{"supervisor": {sup}}, false, owner, 403, nil},
				{"supervisors without roles.assign", "/supervisors", url.Values{"supervisor": {sup}}, true, nobody, 403, nil},
				{"supervisors", "/supervisors", url.Values{"supervisor": {sup}, "cosign_notes": {sup}}, true, owner, 303, func() bool {
					s, err := h.App.Roles.Supervision(h.Ctx, h.sunrise.ID, clin)
					return err == nil && len(s.Supervisors) == 1 && s.Supervisors[0].CosignNotes && !s.Supervisors[0].CosignTreatmentPlans
				}},
				{"co-sign without supervising", "/supervisors", url.Values{"cosign_plans": {sup}}, true, owner, 400, nil},
				{"supervisor who cannot supervise", "/supervisors", url.Values{"supervisor": {h.IDs["nobody@sunrise.example"]}}, true, owner, 400, nil},
				{"option on", "/options", url.Values{"option": {"no_billing"}}, true, owner, 303, func() bool {
					return hasOverride(t, h, clin, roles.Override{Permission: "billing.view:own", Grant: false})
				}},
				{"unknown option", "/options", url.Values{"option": {"nope"}}, true, owner, 400, nil},
				{"option off", "/options", url.Values{}, true, owner, 303, func() bool {
					return !hasOverride(t, h, clin, roles.Override{Permission: "billing.view:own", Grant: false})
				}},
				{"add override", "/overrides", url.Values{"add_permission": {"clients.view:all"}, "add_effect": {"grant"}}, true, owner, 303, func() bool {
					return hasOverride(t, h, clin, roles.Override{Permission: "clients.view:all", Grant: true})
				}},
				{"unknown permission", "/overrides", url.Values{"keep": {"clients.view:all"}, "add_permission": {"no.such"}, "add_effect": {"grant"}}, true, owner, 400, nil},
				{"remove override", "/overrides", url.Values{}, true, owner, 303, func() bool {
					return !hasOverride(t, h, clin, roles.Override{Permission: "clients.view:all", Grant: true})
				}},
				{"elevation without confirmation", "/elevations", url.Values{"permission": {"clinical_notes.view:all"}, "duration": {"60"},
					"reason": {"Covering an urgent session today"}}, true, owner, 400, nil},
				{"elevation without reason", "/elevations", url.Values{"permission": {"clinical_notes.view:all"}, "duration": {"60"},
					"confirm": {"yes"}}, true, owner, 400, nil},
				{"elevation too long", "/elevations", url.Values{"permission": {"clinical_notes.view:all"}, "duration": {"9999"},
					"reason": {"Covering an urgent session today"}, "confirm": {"yes"}}, true, owner, 400, nil},
				{"elevation of an administration permission", "/elevations", url.Values{"permission": {"roles.assign"}, "duration": {"60"},
					"reason": {"Covering an urgent session today"}, "confirm": {"yes"}}, true, owner, 400, nil},
				{"elevation without elevation.grant", "/elevations", url.Values{"permission": {"clinical_notes.view:all"}, "duration": {"60"},
					"reason": {"Covering an urgent session today"}, "confirm": {"yes"}}, true, nobody, 403, nil},
				{"elevation", "/elevations", url.Values{"permission": {"clinical_notes.view:all"}, "duration": {"60"},
					"reason": {"Covering an urgent session today"}, "confirm": {"yes"}}, true, owner, 303, func() bool {
					ok, err := h.App.Roles.Allowed(h.Ctx, h.sunrise.ID, clin, "clinical_notes.view:all")
					return err == nil && ok
				}},
			}
			for _, tc := range forms {
				st, _, body := tc.who.Do("POST", page+tc.path, tc.form, tc.origin)
				if st != tc.status {
					t.Errorf("%s: %d, want %d\n%s", tc.name, st, tc.status, body)
					continue
				}
				if tc.check != nil && !tc.check() {
					t.Errorf("%s: the change is not in effect", tc.name)
				}
			}

			// The running elevation is listed with an End button that works.
			_, _, body = owner.Do("GET", page+"?done=elevation", nil, false)
			m := endElevationAction.FindStringSubmatch(body)
			if m == nil || !strings.Contains(body, "Emergency access was granted") {
				t.Fatalf("no End button for the running elevation:\n%s", body)
			}
			if st, _, _ := nobody.Do("POST", m[1], url.Values{}, true); st != 403 {
				t.Errorf("end without elevation.grant: %d", st)
			}
			if st, _, body := owner.Do("POST", m[1], url.Values{}, true); st != 303 {
				t.Errorf("end: %d\n%s", st, body)
			}
			if ok, _ := h.App.Roles.Allowed(h.Ctx, h.sunrise.ID, clin, "clinical_notes.view:all"); ok {
				t.Error("the ended elevation is still in effect")
			}
			if st, _, _ := owner.Do("POST", m[1], url.Values{}, true); st != 404 {
				t.Errorf("end twice: %d", st)
			}

			// Every change is audited.
			for _, action := range []string{"role.supervisors", "role.override", "elevation.grant", "elevation.end"} {
				evs, err := h.App.Store.QueryAudit(context.Background(), store.AuditFilter{PracticeID: h.sunrise.ID, Action: action,
					Outcome: "success"})
				if err != nil || len(evs) == 0 {
					t.Errorf("no successful %s audit event (%v)", action, err)
				}
			}
		})
	}
}

func hasOverride(t *testing.T, h *consoleSite, memberID string, o roles.Override) bool {
	t.Helper()
	stored, err := h.App.Store.MemberOverrides(h.Ctx, memberID)
	if err != nil {
		t.Fatal(err)
	}
	return slices.ContainsFunc(stored, func(s store.MemberOverride) bool { return s.Permission == o.Permission && s.Grant == o.Grant })
}
