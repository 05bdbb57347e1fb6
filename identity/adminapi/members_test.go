package adminapi_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/adminapi"
	"github.com/frontdeskhq/frontdesk/identity/enforce"
	"github.com/frontdeskhq/frontdesk/identity/passkeys"
	"github.com/frontdeskhq/frontdesk/identity/passkeys/passkeystest"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
)

func TestMemberProfileSupervisorsReactivation(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			h := newHarness(t, engine)
			h.addMember("sunrise", "sup@sunrise.example", "Sam Supervisor", []string{"supervisor"})
			owner := h.token("sunrise", "owner@sunrise.example", "console")
			clin, sup, nobody := h.ids["clin@sunrise.example"], h.ids["sup@sunrise.example"], h.ids["nobody@sunrise.example"]
			base := "/practices/sunrise/members/"

			// Profile: one line of plain text.
			for _, tc := range []struct {
				body   string
				status int
			}{
				{`{"display_name":"  Cleo C.  "}`, 200},
				{`{"display_name":"Cleo\nAdmin: yes"}`, 400},
				{`{"display_name":"Cleo\r"}`, 400},
				{`{"display_name":"Cleo\t"}`, 400},
				{`{"display_name":"\u202eoelC"}`, 400},
				{`{"display_name":"Cl\u200beo"}`, 400},
				{`{"display_name":"Cleo\u2028"}`, 400},
				{`{"display_name":"` + strings.Repeat("é", 201) + `"}`, 400},
				{`{"display_name":""}`, 400},
				{`{}`, 400},
				{`{"legal_name":"X\nY"}`, 400},
				{`{"npi":"1234567890"}`, 400},
				{`{"taxonomy":"101YM0800"}`, 400},
				{`{"legal_name":"Cleo Q. Clinician","credentials":"LCSW","npi":"1234567893","taxonomy":"101ym0800x"}`, 200},
			} {
				r := h.call("PATCH", base+clin, owner, tc.body, nil)
				if r.status != tc.status {
					t.Errorf("PATCH %s: %d, want %d: %s", tc.body, r.status, tc.status, r.body)
				}
				if r.status == 200 {
					var m adminapi.Member
					_ = json.Unmarshal(r.body, &m)
					if m.DisplayName != "Cleo C." {
						t.Errorf("display name = %q", m.DisplayName)
					}
				}
			}
			if r := h.call("PATCH", base+"nope", owner, `{"display_name":"X"}`, nil); r.status != 404 {
				t.Errorf("PATCH unknown member: %d", r.status)
			}

			// Supervisors, through the role model's rules.
			r := h.call("PUT", base+clin+"/supervisors", owner, `{"supervisors":[{"member_id":"`+sup+`","cosign_notes":true}]}`, nil)
			if r.status != 200 || !strings.Contains(string(r.body), `"member_id":"`+sup+`","cosign_notes":true`) {
				t.Errorf("set supervisors: %d %s", r.status, r.body)
			}
			for _, body := range []string{
				`{"supervisors":[{"member_id":"` + clin + `"}]}`,   // themselves
				`{"supervisors":[{"member_id":"` + nobody + `"}]}`, // not a supervisor
				`{"supervisors":[{"member_id":"ghost"}]}`,
				`{"supervisors":[{"member_id":""}]}`,
				`{"supervisors":null}`,
			} {
				if r := h.call("PUT", base+clin+"/supervisors", owner, body, nil); r.status != 400 {
					t.Errorf("PUT supervisors %s: %d %s", body, r.status, r.body)
				}
			}
			if r := h.call("PUT", base+clin+"/supervisors", owner, `{"supervisors":[]}`, nil); r.status != 200 ||
				!strings.Contains(string(r.body), `"supervisors":[]`) {
				t.Errorf("end supervision: %d %s", r.status, r.body)
			}

			// Reactivation is the counterpart of deactivation.
			if r := h.call("POST", base+clin+"/reactivate", owner, nil, nil); r.status != 409 || decodeError(t, r) != "not_deactivated" {
				t.Errorf("reactivate an active member: %d %s", r.status, r.body)
			}
			if r := h.call("POST", base+nobody+"/deactivate", owner, nil, nil); r.status != 200 {
				t.Fatalf("deactivate: %d %s", r.status, r.body)
			}
			r = h.call("POST", base+nobody+"/reactivate", owner, nil, map[string]string{"Idempotency-Key": "re-1"})
			if r.status != 200 || !strings.Contains(string(r.body), `"status":"active"`) {
				t.Errorf("reactivate: %d %s", r.status, r.body)
			}
			h.token("sunrise", "nobody@sunrise.example", "console") // logs in again with the old password
			// A member who never set a credential is invited again instead.
			now := time.Now()
			if err := h.app.Store.CreateMember(h.ctx, store.Member{ID: "m-inv", PracticeID: h.sunrise.ID, Email: "inv@sunrise.example",
				Status: store.StatusDeactivated, CreatedAt: now}); err != nil {
				t.Fatal(err)
			}
			if r := h.call("POST", base+"m-inv/reactivate", owner, nil, nil); r.status != 409 || decodeError(t, r) != "no_credential" {
				t.Errorf("reactivate without a credential: %d %s", r.status, r.body)
			}

			// Reactivating is giving: an administrator cannot bring back an
			// owner (only owners give the owner role).
			h.addMember("sunrise", "boss@sunrise.example", "Bea Boss", []string{"owner"})
			boss := h.ids["boss@sunrise.example"]
			if r := h.call("POST", base+boss+"/deactivate", owner, nil, nil); r.status != 200 {
				t.Fatalf("deactivate the second owner: %d %s", r.status, r.body)
			}
			if r := h.call("PUT", base+clin+"/roles", owner, `{"roles":["administrator"]}`, nil); r.status != 200 {
				t.Fatalf("make an administrator: %d %s", r.status, r.body)
			}
			admin := h.token("sunrise", "clin@sunrise.example", "console")
			if r := h.call("POST", base+boss+"/reactivate", admin, nil, nil); r.status != 403 || !strings.Contains(string(r.body), "You can't give the Account Owner role; only an owner can.") {
				t.Errorf("administrator reactivates an owner: %d %s", r.status, r.body)
			}
			if m, _ := h.app.Store.MemberByID(h.ctx, h.sunrise.ID, boss); m.Status != store.StatusDeactivated {
				t.Errorf("a refused reactivation changed the status to %s", m.Status)
			}
			if r := h.call("POST", base+boss+"/reactivate", owner, nil, nil); r.status != 200 {
				t.Errorf("owner reactivates an owner: %d %s", r.status, r.body)
			}

			// This harness's IP-address issuer turns passkeys off.
			r = h.call("POST", base+clin+"/revoke-passkeys", owner, nil, nil)
			if r.status != 404 {
				t.Errorf("revoke passkeys with passkeys off: %d %s", r.status, r.body)
			}

			// Audited with before and after.
			for action, want := range map[string][2]string{
				"member.profile":    {"Cleo Clinician", "Cleo C."},
				"member.reactivate": {"deactivated", "active"},
			} {
				recs, err := h.app.Store.QueryAudit(h.ctx, store.AuditFilter{PracticeID: h.sunrise.ID, Action: action})
				if err != nil || len(recs) == 0 {
					t.Fatalf("%s events: %v %v", action, recs, err)
				}
				found := false
				for _, rec := range recs {
					var d map[string]string
					_ = json.Unmarshal([]byte(rec.DetailsJSON), &d)
					found = found || d["before"] == want[0] && d["after"] == want[1] && rec.ActorID == h.ids["owner@sunrise.example"]
				}
				if !found {
					t.Errorf("%s events = %+v", action, recs)
				}
			}
		})
	}
}

// Revoking a member's passkeys goes through the real passkey service, which
// removes every passkey and ends the member's sessions.
func TestRevokePasskeys(t *testing.T) {
	h := newHarness(t, store.SQLite)
	owner := h.token("sunrise", "owner@sunrise.example", "console")
	clin := h.ids["clin@sunrise.example"]
	pk := passkeystest.NewService(t, h.app.Store, h.app.Accounts, time.Now, func(d *passkeys.Deps, c *passkeys.Config) {
		d.NewID, d.Permissions = func() string { return "x" }, h.app.Roles
		c.RPID, c.Origins = "sunrise.example", []string{"https://sunrise.example"}
	})
	for i, id := range []string{"pk1", "pk2"} {
		if err := h.app.Store.CreatePasskey(h.ctx, store.Passkey{ID: id, CredentialID: []byte{byte(i), 7}, PracticeID: h.sunrise.ID,
			MemberID: clin, PublicKey: []byte{1}, Name: "Key " + id, CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	v, err := enforce.New(enforce.Config{Issuer: h.srv.URL, Audience: "console", HTTPClient: h.srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	api, err := adminapi.New(adminapi.Deps{Store: h.app.Store, Accounts: h.app.Accounts, Onboarding: h.app.Onboarding, Roles: h.app.Roles,
		Verifiers: []adminapi.Verifier{v}, Logger: slog.New(slog.DiscardHandler), Passkeys: pk,
		Meta: func(*http.Request) account.Meta { return account.Meta{} }})
	if err != nil {
		t.Fatal(err)
	}
	call := func(tok, id string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", "/api/v1/practices/sunrise/members/"+id+"/revoke-passkeys", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, req)
		return rec
	}
	if rec := call(h.token("sunrise", "nobody@sunrise.example", "console"), clin); rec.Code != 403 {
		t.Errorf("without members.manage: %d %s", rec.Code, rec.Body)
	}
	if rec := call(owner, "ghost"); rec.Code != 404 {
		t.Errorf("unknown member: %d %s", rec.Code, rec.Body)
	}
	rec := call(owner, clin)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"passkeys_removed":2`) {
		t.Fatalf("revoke: %d %s", rec.Code, rec.Body)
	}
	if left, _ := h.app.Store.MemberPasskeys(h.ctx, h.sunrise.ID, clin); len(left) != 0 {
		t.Errorf("passkeys left: %v", left)
	}
	recs, _ := h.app.Store.QueryAudit(h.ctx, store.AuditFilter{PracticeID: h.sunrise.ID, Action: "passkey.revoke_all"})
	if len(recs) != 1 || recs[0].SubjectID != clin || recs[0].ActorID != h.ids["owner@sunrise.example"] {
		t.Errorf("audit = %+v", recs)
	}
}

// An invitation's supervisors are set in its transaction: a refused
// supervisor refuses the invitation with what to do next, and leaves no
// invitation or member behind; an accepted one is there when the answer is.
func TestInviteWithSupervisorsIsOneTransaction(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			h := newHarness(t, engine)
			h.addMember("sunrise", "sup@sunrise.example", "Sam Supervisor", []string{"supervisor"})
			owner := h.token("sunrise", "owner@sunrise.example", "console")
			sup, nobody := h.ids["sup@sunrise.example"], h.ids["nobody@sunrise.example"]
			for _, tc := range []struct{ name, sups string }{
				{"not a supervisor", `[{"member_id":"` + nobody + `"}]`},
				{"no such member", `[{"member_id":"ghost"}]`},
				{"listed twice", `[{"member_id":"` + sup + `"},{"member_id":"` + sup + `"}]`},
			} {
				r := h.call("POST", "/practices/sunrise/invitations", owner,
					`{"email":"refused@sunrise.example","roles":["practitioner"],"supervisors":`+tc.sups+`}`, nil)
				if r.status != 400 || !strings.Contains(string(r.body), "nothing was saved") ||
					!strings.Contains(string(r.body), "Choose another supervisor") {
					t.Errorf("%s: %d %s", tc.name, r.status, r.body)
				}
				if _, err := h.app.Store.MemberByEmail(h.ctx, h.sunrise.ID, "refused@sunrise.example"); err == nil {
					t.Errorf("%s: the invitee was saved", tc.name)
				}
			}
			if r := h.call("GET", "/practices/sunrise/invitations", owner, nil, nil); strings.Contains(string(r.body), "refused@") {
				t.Errorf("a refused invitation is listed: %s", r.body)
			}
			r := h.call("POST", "/practices/sunrise/invitations", owner,
				`{"email":"ivy@sunrise.example","roles":["practitioner"],"supervisors":[{"member_id":"`+sup+`","cosign_notes":true}]}`, nil)
			if r.status != 201 {
				t.Fatalf("invite with a supervisor: %d %s", r.status, r.body)
			}
			var inv struct {
				MemberID string `json:"member_id"`
			}
			_ = json.Unmarshal(r.body, &inv)
			if got, err := h.app.Store.Supervisors(h.ctx, inv.MemberID); err != nil || len(got) != 1 || got[0].SupervisorID != sup ||
				!got[0].CosignNotes {
				t.Errorf("supervision = %+v, %v", got, err)
			}
		})
	}
}
