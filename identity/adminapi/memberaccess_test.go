package adminapi_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
)

type overridesResp struct {
	MemberID  string `json:"member_id"`
	Overrides []struct {
		Permission string `json:"permission"`
		Grant      bool   `json:"grant"`
	} `json:"overrides"`
	Options []struct {
		Key string `json:"key"`
		On  bool   `json:"on"`
	} `json:"options"`
}

func optionOn(t *testing.T, body []byte, key string) bool {
	t.Helper()
	var v overridesResp
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
	for _, o := range v.Options {
		if o.Key == key {
			return o.On
		}
	}
	t.Fatalf("option %s not listed: %s", key, body)
	return false
}

// Per-member overrides, member options and emergency elevations through the
// API, on both engines; every response is validated against
// docs/openapi.yaml by the harness.
func TestMemberOverridesOptionsElevations(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			h := newHarness(t, engine)
			owner := h.token("sunrise", "owner@sunrise.example", "console")
			clin := h.ids["clin@sunrise.example"]
			base := "/practices/sunrise/members/" + clin

			r := h.call("GET", base+"/overrides", owner, nil, nil)
			if r.status != 200 || optionOn(t, r.body, "no_billing") {
				t.Fatalf("get overrides: %d %s", r.status, r.body)
			}

			// Overrides: table of bodies and the expected status.
			for _, tc := range []struct {
				name, body string
				status     int
			}{
				{"grant and deny", `{"overrides":[{"permission":"clients.view:all","grant":true},{"permission":"billing.view:own","grant":false}]}`, 200},
				{"unknown permission", `{"overrides":[{"permission":"no.such","grant":true}]}`, 400},
				{"twice", `{"overrides":[{"permission":"clients.view:all","grant":true},{"permission":"clients.view:all","grant":false}]}`, 400},
				{"empty permission", `{"overrides":[{"permission":"","grant":true}]}`, 400},
				{"null", `{"overrides":null}`, 400},
				{"unknown field", `{"overrides":[],"x":1}`, 400},
			} {
				r := h.call("PUT", base+"/overrides", owner, tc.body, nil)
				if r.status != tc.status {
					t.Errorf("PUT overrides %s: %d, want %d: %s", tc.name, r.status, tc.status, r.body)
				}
			}
			var v overridesResp
			_ = json.Unmarshal(h.call("GET", base+"/overrides", owner, nil, nil).body, &v)
			if len(v.Overrides) != 2 {
				t.Errorf("overrides after the changes = %+v", v.Overrides)
			}
			if r := h.call("PUT", "/practices/sunrise/members/ghost/overrides", owner, `{"overrides":[]}`, nil); r.status != 404 {
				t.Errorf("overrides of an unknown member: %d %s", r.status, r.body)
			}

			// Options: on, off, unknown, missing body field.
			for _, tc := range []struct {
				option, body string
				status       int
				on           bool
			}{
				{"no_billing", `{"on":true}`, 200, true},
				{"no_billing", `{"on":false}`, 200, false},
				{"no_such_option", `{"on":true}`, 400, false},
				{"no_billing", `{}`, 400, false},
			} {
				r := h.call("PUT", base+"/options/"+tc.option, owner, tc.body, nil)
				if r.status != tc.status {
					t.Errorf("PUT option %s %s: %d, want %d: %s", tc.option, tc.body, r.status, tc.status, r.body)
					continue
				}
				if r.status == 200 && optionOn(t, r.body, tc.option) != tc.on {
					t.Errorf("option %s after %s: %s", tc.option, tc.body, r.body)
				}
			}
			// Turning the option off removes only the option's overrides;
			// the member's unrelated grant stays.
			_ = json.Unmarshal(h.call("GET", base+"/overrides", owner, nil, nil).body, &v)
			if !strings.Contains(string(must(json.Marshal(v.Overrides))), `"clients.view:all"`) {
				t.Errorf("the option removed an unrelated override: %+v", v.Overrides)
			}

			// Elevations.
			grant := `{"permissions":["clinical_notes.view:all"],"duration_minutes":60,"reason":"Covering an urgent session today"}`
			for _, tc := range []struct {
				name, body string
				status     int
			}{
				{"no reason", `{"permissions":["clinical_notes.view:all"],"duration_minutes":60,"reason":""}`, 400},
				{"short reason", `{"permissions":["clinical_notes.view:all"],"duration_minutes":60,"reason":"because"}`, 400},
				{"too long", `{"permissions":["clinical_notes.view:all"],"duration_minutes":721,"reason":"Covering an urgent session today"}`, 400},
				{"no duration", `{"permissions":["clinical_notes.view:all"],"reason":"Covering an urgent session today"}`, 400},
				{"no permissions", `{"permissions":[],"duration_minutes":60,"reason":"Covering an urgent session today"}`, 400},
				{"administration", `{"permissions":["roles.assign"],"duration_minutes":60,"reason":"Covering an urgent session today"}`, 400},
				{"unknown permission", `{"permissions":["no.such"],"duration_minutes":60,"reason":"Covering an urgent session today"}`, 400},
			} {
				if r := h.call("POST", base+"/elevations", owner, tc.body, nil); r.status != tc.status {
					t.Errorf("grant %s: %d, want %d: %s", tc.name, r.status, tc.status, r.body)
				}
			}
			key := map[string]string{"Idempotency-Key": "elev-1"}
			first := h.call("POST", base+"/elevations", owner, grant, key)
			if first.status != 201 {
				t.Fatalf("grant: %d %s", first.status, first.body)
			}
			var e struct {
				ID     string `json:"id"`
				EndsAt string `json:"ends_at"`
			}
			_ = json.Unmarshal(first.body, &e)
			if e.ID == "" || e.EndsAt == "" {
				t.Fatalf("grant answer: %s", first.body)
			}
			if again := h.call("POST", base+"/elevations", owner, grant, key); again.status != 201 ||
				again.header.Get("Idempotent-Replayed") != "true" || string(again.body) != string(first.body) {
				t.Errorf("replayed grant: %d %s", again.status, again.body)
			}
			r = h.call("GET", base+"/elevations", owner, nil, nil)
			if r.status != 200 || strings.Count(string(r.body), `"id":`) != 1 || !strings.Contains(string(r.body), e.ID) {
				t.Errorf("list elevations (one, despite the replay): %d %s", r.status, r.body)
			}
			r = h.call("GET", "/practices/sunrise/elevations", owner, nil, nil)
			if r.status != 200 || strings.Count(string(r.body), `"id":`) != 1 || !strings.Contains(string(r.body), `"member_id":"`+clin+`"`) {
				t.Errorf("list the practice's elevations: %d %s", r.status, r.body)
			}
			if r := h.call("GET", "/practices/moon/elevations", h.token("moon", "owner@moon.example", "console"), nil, nil); r.status != 200 ||
				strings.Contains(string(r.body), e.ID) {
				t.Errorf("moon lists sunrise's elevation: %d %s", r.status, r.body)
			}
			if eff, err := h.app.Roles.Effective(context.Background(), h.sunrise.ID, clin); err != nil ||
				!strings.Contains(strings.Join(eff.Permissions, " "), "clinical_notes.view:all") {
				t.Errorf("the elevation is not in effect: %v %v", eff.Permissions, err)
			}
			if r := h.call("POST", "/practices/sunrise/elevations/"+e.ID+"/end", owner, nil, nil); r.status != 200 {
				t.Errorf("end: %d %s", r.status, r.body)
			}
			if r := h.call("POST", "/practices/sunrise/elevations/"+e.ID+"/end", owner, nil, nil); r.status != 404 {
				t.Errorf("end twice: %d %s", r.status, r.body)
			}
			if r := h.call("GET", base+"/elevations", owner, nil, nil); r.status != 200 || strings.Contains(string(r.body), e.ID) {
				t.Errorf("ended elevation still listed: %s", r.body)
			}
			// Moon's owner cannot end sunrise's elevation (another practice's
			// ids are not found).
			second := h.call("POST", base+"/elevations", owner, grant, nil)
			_ = json.Unmarshal(second.body, &e)
			moon := h.token("moon", "owner@moon.example", "console")
			if r := h.call("POST", "/practices/moon/elevations/"+e.ID+"/end", moon, nil, nil); r.status != 404 {
				t.Errorf("another practice ends the elevation: %d %s", r.status, r.body)
			}

			// Every change is in the audit trail.
			for action, want := range map[string]int{"role.override": 3, "elevation.grant": 2, "elevation.end": 1} {
				evs, err := h.app.Store.QueryAudit(context.Background(), store.AuditFilter{PracticeID: h.sunrise.ID, Action: action,
					Outcome: "success"})
				if err != nil || len(evs) != want {
					t.Errorf("audit %s: %d events, want %d (%v)", action, len(evs), want, err)
				}
			}
		})
	}
}
