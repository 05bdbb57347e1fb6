package adminapi_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/onboarding"
	"github.com/frontdeskhq/frontdesk/identity/roles"
	"github.com/frontdeskhq/frontdesk/identity/sso"
	"github.com/frontdeskhq/frontdesk/identity/store"
)

// How a route relates to giving access (docs/roles.md, "who staffs whom").
const (
	// viaModel: the route can end with someone holding a role or
	// permission, and asks the delegation model (roles.Service.MayGive and
	// the giver in identity/roles) before it does. Each has a probe below.
	viaModel = "gives access via model"
	// decidedEarlier: the route gives exactly what the model allowed when
	// it was decided (accepting an invitation gives its roles, checked when
	// it was sent or resent; signing in through SSO after an approved join).
	decidedEarlier = "gives access the model decided earlier"
	// noAccess: the route never gives anyone a role or permission (reads,
	// takes away, the member's own credentials, settings that grant nothing).
	noAccess = "does not give access"
	// takesAway: the route takes access away from a member (deactivation,
	// revoking their passkeys) and asks the same model first: the actor must
	// be able to give every role the member holds (account.MayStaff), so an
	// administrator cannot remove an owner. Each has a probe below.
	takesAway = "takes access away, if the actor staffs the member"
)

const pp = "/api/v1/practices/{practice}"

// apiRouteClasses classifies every admin API route. A route missing here
// fails TestEveryRouteClassified, so a new route cannot be added without
// saying whether it gives access.
var apiRouteClasses = map[string]string{
	"GET " + pp + "/members":                          noAccess,
	"GET " + pp + "/members/{id}":                     noAccess,
	"PUT " + pp + "/members/{id}/roles":               viaModel,
	"POST " + pp + "/members/{id}/unlock":             noAccess, // the member's own sign-in, nothing new
	"POST " + pp + "/members/{id}/temporary-password": noAccess, // mailed to the member; their own access
	"POST " + pp + "/members/{id}/deactivate":         takesAway,
	"PATCH " + pp + "/members/{id}":                   noAccess,
	"PUT " + pp + "/members/{id}/supervisors":         viaModel,
	"POST " + pp + "/members/{id}/reactivate":         viaModel,
	"POST " + pp + "/members/{id}/revoke-passkeys":    takesAway,
	"GET " + pp + "/apps":                             noAccess,
	"POST " + pp + "/apps":                            noAccess, // an app's require_permission narrows who logs in
	"POST " + pp + "/apps/{client_id}/rotate-secret":  noAccess,
	"DELETE " + pp + "/apps/{client_id}":              noAccess,
	"PATCH " + pp + "/apps/{client_id}":               noAccess,
	"GET " + pp + "/invitations":                      noAccess,
	"POST " + pp + "/invitations":                     viaModel,
	"POST " + pp + "/invitations/{id}/resend":         viaModel,
	"POST " + pp + "/invitations/{id}/revoke":         noAccess,
	"GET " + pp + "/roles":                            noAccess,
	"GET " + pp + "/presets":                          noAccess,
	"POST " + pp + "/roles":                           viaModel,
	"PUT " + pp + "/roles/{key}":                      viaModel,
	"PUT " + pp + "/toggles/{key}":                    viaModel,
	"GET " + pp + "/login-policy":                     noAccess,
	"PUT " + pp + "/login-policy":                     noAccess,
	"GET " + pp + "/settings":                         noAccess,
	"PATCH " + pp + "/settings":                       noAccess, // time zone; onboarding changes how access is delivered, not what it gives
	"GET " + pp + "/members/{id}/overrides":           noAccess,
	"PUT " + pp + "/members/{id}/overrides":           viaModel,
	"PUT " + pp + "/members/{id}/options/{option}":    viaModel,
	"GET " + pp + "/members/{id}/elevations":          noAccess,
	"POST " + pp + "/members/{id}/elevations":         viaModel,
	"GET " + pp + "/elevations":                       noAccess,
	"POST " + pp + "/elevations/{elevation}/end":      noAccess,
	"GET " + pp + "/audit-events":                     noAccess,
	"GET " + pp + "/audit-events/export":              noAccess,
	"GET " + pp + "/sso-providers":                    noAccess,
	"POST " + pp + "/sso-providers":                   viaModel, // the join role
	"DELETE " + pp + "/sso-providers/{id}":            noAccess,
}

const cp = "/p/{practice}"

// consoleFormClasses classifies every state-changing (POST) route of the
// console and the public pages (identity/httpserver). GET routes never
// change anything (the test checks that none is classified as giving).
var consoleFormClasses = map[string]string{
	"POST " + cp + "/login":                                         noAccess,
	"POST " + cp + "/logout":                                        noAccess,
	"POST " + cp + "/password":                                      noAccess,
	"POST " + cp + "/setup":                                         decidedEarlier, // the practice's creator: the preset's owner roles
	"POST " + cp + "/invite":                                        decidedEarlier, // the invitation's roles
	"POST " + cp + "/forgot":                                        noAccess,
	"POST " + cp + "/reset":                                         noAccess,
	"POST " + cp + "/new-password":                                  noAccess,
	"POST " + cp + "/admin/members/{id}/unlock":                     noAccess,
	"POST " + cp + "/admin/members/{id}/temporary-password":         noAccess,
	"POST " + cp + "/admin/invite":                                  viaModel,
	"POST " + cp + "/admin/roles/{key}":                             viaModel,
	"POST " + cp + "/admin/toggles/{key}":                           viaModel,
	"POST " + cp + "/admin/members/{id}/supervisors":                viaModel,
	"POST " + cp + "/admin/members/{id}/options":                    viaModel,
	"POST " + cp + "/admin/members/{id}/overrides":                  viaModel,
	"POST " + cp + "/admin/members/{id}/elevations":                 viaModel,
	"POST " + cp + "/admin/members/{id}/elevations/{elevation}/end": noAccess,
	"POST " + cp + "/admin/members/{id}/roles":                      viaModel,
	"POST " + cp + "/admin/members/{id}/profile":                    noAccess,
	"POST " + cp + "/admin/members/{id}/practitioner":               noAccess,
	"POST " + cp + "/admin/members/{id}/deactivate":                 takesAway,
	"POST " + cp + "/admin/members/{id}/reactivate":                 viaModel,
	"POST " + cp + "/admin/members/{id}/revoke-passkeys":            takesAway,
	"POST " + cp + "/admin/invitations/{id}/resend":                 viaModel,
	"POST " + cp + "/admin/invitations/{id}/revoke":                 noAccess,
	"POST " + cp + "/admin/roles":                                   viaModel,
	"POST " + cp + "/admin/apps":                                    noAccess,
	"POST " + cp + "/admin/apps/{client_id}/rotate":                 noAccess,
	"POST " + cp + "/admin/apps/{client_id}/remove":                 noAccess,
	"POST " + cp + "/admin/apps/{client_id}/permission":             noAccess,
	"POST " + cp + "/admin/apps/{client_id}/tokens":                 noAccess,
	"POST " + cp + "/admin/sign-in/policy":                          noAccess,
	"POST " + cp + "/admin/sign-in/settings":                        noAccess,
	"POST " + cp + "/admin/apps/{client_id}/launch":                 noAccess,
	"POST " + cp + "/admin/sign-in/providers":                       viaModel, // the join role
	"POST " + cp + "/admin/sign-in/providers/{id}/remove":           noAccess,
	"POST " + cp + "/admin/sign-in/requests/{id}/approve":           viaModel,
	"POST " + cp + "/admin/sign-in/requests/{id}/reject":            noAccess,
	"POST " + cp + "/passkeys/reauth":                               noAccess,
	"POST " + cp + "/passkeys/{id}/rename":                          noAccess,
	"POST " + cp + "/passkeys/{id}/remove":                          noAccess,
	"POST " + cp + "/passkeys/register/begin":                       noAccess,
	"POST " + cp + "/passkeys/register/finish":                      noAccess,
	"POST " + cp + "/passkeys/login/begin":                          noAccess,
	"POST " + cp + "/passkeys/login/finish":                         noAccess,
	"POST " + cp + "/add-passkey/continue":                          noAccess,
	"POST " + cp + "/sso/reauth":                                    noAccess,
	"POST " + cp + "/sso/{provider}/link":                           noAccess, // links the member's own account
	"POST " + cp + "/sso/linked/{id}/unlink":                        noAccess,
}

// noProbe lists giving routes the probes cannot reach in the harness's
// practice, with where the path is proven instead.
var noProbe = map[string]string{
	"PUT " + pp + "/toggles/{key}": "the default preset has no toggles; roles.TestDelegationProperty switches every toggle " +
		"of every preset as each role",
	"POST " + cp + "/admin/toggles/{key}": "as for the API's toggles",
	"POST " + pp + "/members/{id}/revoke-passkeys": "passkeys are off in the harness (no https public URL); it makes " +
		"deactivation's account.MayStaff call (account.TestDeactivationFollowsDelegation)",
	"POST " + cp + "/admin/members/{id}/revoke-passkeys": "as for the API's revoke-passkeys",
}

// TestEveryRouteClassified enumerates every admin API route and every console
// form route and holds them to the tables above: a route missing from a table
// (or classified but gone) fails, and every route classified as giving access
// through the model is probed — a Sessions Health Administrator (given
// roles.define and elevation.grant by the operator, so that only the
// delegation model stands in the way) tries to give something only an owner
// may give, and must be refused with a sentence naming the role or
// permission in words, never a permission string.
func TestEveryRouteClassified(t *testing.T) {
	h := newHarness(t, store.SQLite)
	ctx := h.ctx

	check := func(t *testing.T, what string, routes []string, table map[string]string, only func(string) bool) {
		var seen []string
		for _, r := range routes {
			if !only(r) {
				continue
			}
			seen = append(seen, r)
			if _, ok := table[r]; !ok {
				t.Errorf("%s route %q is not classified: add it to the table with %q, %q, %q or %q (and a probe)",
					what, r, viaModel, takesAway, decidedEarlier, noAccess)
			}
		}
		for r := range table {
			// Passkey routes exist only with passkeys configured (a public URL
			// on https or localhost); the harness has none.
			if !slices.Contains(seen, r) && !strings.Contains(r, "passkey") {
				t.Errorf("%s table names %q, which is not a route", what, r)
			}
		}
	}
	apiRoutes := h.app.Handler.APIRoutes()
	if len(apiRoutes) == 0 {
		t.Fatal("the admin API lists no routes")
	}
	check(t, "admin API", apiRoutes, apiRouteClasses, func(string) bool { return true })
	consoleRoutes := h.app.Handler.Routes()
	check(t, "console", consoleRoutes, consoleFormClasses, func(r string) bool { return strings.HasPrefix(r, "POST /p/") })
	for _, r := range consoleRoutes {
		if !strings.HasPrefix(r, "POST ") && consoleFormClasses[r] != "" {
			t.Errorf("%s is not a POST route yet classified", r)
		}
	}

	// The probes' cast: carol administers sunrise; an active and a former
	// owner; an owner's invitations and join requests set up by the operator.
	const carolEmail = "carol@sunrise.example"
	h.addMember("sunrise", carolEmail, "Carol Admin", []string{"administrator"})
	h.addMember("sunrise", "owner2@sunrise.example", "Second Owner", []string{"owner"})
	for _, email := range []string{"former@sunrise.example", "former2@sunrise.example"} {
		h.addMember("sunrise", email, "Former Owner", []string{"owner"})
		if err := h.app.Store.SetMemberStatus(ctx, h.ids[email], store.StatusDeactivated, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	op := roles.Actor{PracticeID: h.sunrise.ID}
	carolID := h.ids[carolEmail]
	if err := h.app.Roles.SetMemberOverrides(ctx, op, carolID, []roles.Override{{Permission: roles.PermDefine, Grant: true},
		{Permission: roles.PermGrantElevation, Grant: true}}, roles.Meta{}); err != nil {
		t.Fatal(err)
	}
	invite := func(email string) string {
		inv, err := h.app.Onboarding.Invite(ctx, "sunrise", account.Operator(), onboarding.InviteRequest{Email: email,
			Roles: []string{"owner"}}, account.Meta{})
		if err != nil {
			t.Fatal(err)
		}
		return inv.ID
	}
	inv1, inv2 := invite("new-owner@sunrise.example"), invite("new-owner2@sunrise.example")
	prov, err := h.app.SSO.AddProvider(ctx, "sunrise", account.Operator(), sso.NewProvider{Kind: sso.KindGeneric,
		DisplayName: "Owners", Issuer: "https://idp.example.org", ClientID: "owners", ClientSecret: "s3cret",
		AllowedDomains: []string{"outside.example"}, JoinEnabled: true, JoinRole: "owner"}, account.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.app.Store.CreateSSOJoinRequest(ctx, store.SSOJoinRequest{ID: "jr-owner", PracticeID: h.sunrise.ID,
		ProviderID: prov.ID, Issuer: prov.Issuer, Subject: "sub-1", Email: "x@outside.example", Name: "X",
		RoleKey: "owner", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	nobody, owner2 := h.ids["nobody@sunrise.example"], h.ids["owner2@sunrise.example"]
	former, former2 := h.ids["former@sunrise.example"], h.ids["former2@sunrise.example"]
	tok := h.token("sunrise", carolEmail, "console")
	console := h.browser()
	if st := console.Login("sunrise", carolEmail, ownerPw); st != http.StatusSeeOther {
		t.Fatalf("carol's console login: %d", st)
	}

	provider := `{"kind":"generic","display_name":"Evil","issuer":"https://evil.example","client_id":"evil",` +
		`"client_secret":"s3cret","allowed_domains":["evil.example"],"join_enabled":true,"join_role":"owner"}`
	apiProbes := map[string][2]string{ // route → {method path, body}
		"PUT " + pp + "/members/{id}/roles":            {"PUT /members/" + nobody + "/roles", `{"roles":["owner"]}`},
		"PUT " + pp + "/members/{id}/supervisors":      {"PUT /members/" + owner2 + "/supervisors", `{"supervisors":[]}`},
		"POST " + pp + "/members/{id}/reactivate":      {"POST /members/" + former + "/reactivate", ""},
		"POST " + pp + "/invitations":                  {"POST /invitations", `{"email":"x9@sunrise.example","roles":["owner"]}`},
		"POST " + pp + "/invitations/{id}/resend":      {"POST /invitations/" + inv1 + "/resend", ""},
		"POST " + pp + "/roles":                        {"POST /roles", `{"key":"auditor","name":"Auditor","permissions":["audit.view"]}`},
		"PUT " + pp + "/roles/{key}":                   {"PUT /roles/owner", `{"name":"Account Owner","permissions":["members.view:own"]}`},
		"PUT " + pp + "/members/{id}/overrides":        {"PUT /members/" + nobody + "/overrides", `{"overrides":[{"permission":"roles.define","grant":true}]}`},
		"PUT " + pp + "/members/{id}/options/{option}": {"PUT /members/" + nobody + "/options/full_clinical_access", `{"on":true}`},
		"POST " + pp + "/members/{id}/elevations": {"POST /members/" + nobody + "/elevations",
			`{"permissions":["clinical_notes.view:all"],"duration_minutes":30,"reason":"covering for a colleague today"}`},
		"POST " + pp + "/sso-providers": {"POST /sso-providers", provider},
	}
	form := func(kv ...string) url.Values {
		v := url.Values{}
		for i := 0; i < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		return v
	}
	consoleProbes := map[string]struct {
		path string
		form url.Values
	}{
		"POST " + cp + "/admin/invite":                   {"/admin/invite", form("email", "x8@sunrise.example", "role", "owner")},
		"POST " + cp + "/admin/roles/{key}":              {"/admin/roles/owner", form("name", "Account Owner", "permission", "members.view:own")},
		"POST " + cp + "/admin/members/{id}/supervisors": {"/admin/members/" + owner2 + "/supervisors", form()},
		"POST " + cp + "/admin/members/{id}/options":     {"/admin/members/" + nobody + "/options", form("option", "full_clinical_access")},
		"POST " + cp + "/admin/members/{id}/overrides": {"/admin/members/" + nobody + "/overrides",
			form("add_permission", "roles.define", "add_effect", "grant")},
		"POST " + cp + "/admin/members/{id}/elevations": {"/admin/members/" + nobody + "/elevations",
			form("permission", "clinical_notes.view:all", "confirm", "yes", "duration", "30", "reason", "covering for a colleague today")},
		"POST " + cp + "/admin/members/{id}/roles":            {"/admin/members/" + nobody + "/roles", form("role", "owner")},
		"POST " + cp + "/admin/members/{id}/reactivate":       {"/admin/members/" + former2 + "/reactivate", form()},
		"POST " + cp + "/admin/invitations/{id}/resend":       {"/admin/invitations/" + inv2 + "/resend", form()},
		"POST " + cp + "/admin/roles":                         {"/admin/roles", form("key", "auditor", "name", "Auditor", "permission", "audit.view")},
		"POST " + cp + "/admin/sign-in/requests/{id}/approve": {"/admin/sign-in/requests/jr-owner/approve", form()},
		"POST " + cp + "/admin/sign-in/providers": {"/admin/sign-in/providers", form("kind", "generic", "display_name", "Evil",
			"issuer", "https://evil.example", "client_id", "evil2", "client_secret", "s3cret", "allowed_domains", "evil.example",
			"join_enabled", "yes", "join_role", "owner")},
	}

	var catalogue []string
	for _, e := range roles.Catalogue() {
		catalogue = append(catalogue, e.Name)
	}
	worded := func(t *testing.T, route, text string) {
		t.Helper()
		text = strings.ReplaceAll(text, "&#39;", "'")
		if !strings.Contains(text, "can't give") {
			t.Errorf("%s: the refusal does not say what cannot be given:\n%.600s", route, text)
		}
		for _, name := range catalogue {
			if strings.Contains(text, name+":") || strings.Contains(text, name+" ") || strings.Contains(text, name+"\"") {
				t.Errorf("%s: the refusal shows the permission string %s:\n%.600s", route, name, text)
			}
		}
	}
	for route, class := range apiRouteClasses {
		if class != viaModel || noProbe[route] != "" {
			continue
		}
		probe, ok := apiProbes[route]
		if !ok {
			t.Errorf("%s gives access but has no probe", route)
			continue
		}
		method, path, _ := strings.Cut(probe[0], " ")
		r := h.call(method, "/practices/sunrise"+path, tok, nilIfEmpty(probe[1]), nil)
		if r.status != http.StatusForbidden {
			t.Errorf("%s: %d %s; want 403 from the delegation model", route, r.status, r.body)
			continue
		}
		worded(t, route, string(r.body))
	}
	for route, class := range consoleFormClasses {
		if class != viaModel || noProbe[route] != "" {
			continue
		}
		probe, ok := consoleProbes[route]
		if !ok {
			t.Errorf("%s gives access but has no probe", route)
			continue
		}
		st, loc, body := console.Do("POST", "/p/sunrise"+probe.path, probe.form, true)
		if st == http.StatusSeeOther || st/100 == 2 && !strings.Contains(body, "can&#39;t give") {
			t.Errorf("%s: %d %s; want a refusal from the delegation model", route, st, loc)
			continue
		}
		worded(t, route, refusalText(body))
	}

	// Taking away: carol may not deactivate the second owner, by the API
	// or the console; the refusal names the owner and whom to ask.
	takeProbes := map[string]func() (int, string){
		"POST " + pp + "/members/{id}/deactivate": func() (int, string) {
			r := h.call("POST", "/practices/sunrise/members/"+owner2+"/deactivate", tok, nil, nil)
			return r.status, string(r.body)
		},
		"POST " + cp + "/admin/members/{id}/deactivate": func() (int, string) {
			st, _, body := console.do("POST", "/p/sunrise/admin/members/"+owner2+"/deactivate", form("confirm", "yes"), true)
			return st, refusalText(body)
		},
	}
	for _, table := range []map[string]string{apiRouteClasses, consoleFormClasses} {
		for route, class := range table {
			if class != takesAway || noProbe[route] != "" {
				continue
			}
			probe, ok := takeProbes[route]
			if !ok {
				t.Errorf("%s takes access away but has no probe", route)
				continue
			}
			st, text := probe()
			text = strings.ReplaceAll(text, "&#39;", "'")
			if st/100 == 2 || st == http.StatusSeeOther || !strings.Contains(text, "You can't deactivate Second Owner") ||
				!strings.Contains(text, "ask the practice owner") {
				t.Errorf("%s on an owner by an administrator: %d %.400s; want a refusal naming the owner", route, st, text)
			}
		}
	}
	if m, _ := h.app.Store.MemberByID(ctx, h.sunrise.ID, owner2); m.Status != store.StatusActive {
		t.Errorf("the second owner is %s after the probes", m.Status)
	}

	// Nothing was given: nobody but the practice's owners holds owner.
	held, err := h.app.Store.PracticeMemberRoles(ctx, h.sunrise.ID)
	if err != nil {
		t.Fatal(err)
	}
	for id, rs := range held {
		if slices.Contains(rs, "owner") && id != h.ids["owner@sunrise.example"] && id != owner2 {
			if m, _ := h.app.Store.MemberByID(ctx, h.sunrise.ID, id); m.Status == store.StatusActive {
				t.Errorf("%s holds owner", m.Email)
			}
		}
	}
}

// refusalText is the sentence a console page shows for a refusal: the form's
// alert, or the message page's paragraph.
func refusalText(page string) string {
	if i := strings.Index(page, `role="alert"`); i >= 0 {
		rest := page[i:]
		rest = rest[strings.Index(rest, ">")+1:]
		if j := strings.Index(rest, "</p>"); j >= 0 {
			return rest[:j]
		}
	}
	if i := strings.Index(page, "</h1>"); i >= 0 {
		rest := page[i:]
		if a := strings.Index(rest, "<p>"); a >= 0 {
			rest = rest[a+3:]
			if j := strings.Index(rest, "</p>"); j >= 0 {
				return rest[:j]
			}
		}
	}
	return page
}

// TestReinviteAnswers409WithThePendingInvitation: the admin API never
// replaces a pending invitation's roles silently — 409 invitation_pending
// with the invitation (validated against docs/openapi.yaml), then
// update_pending replaces it.
func TestReinviteAnswers409WithThePendingInvitation(t *testing.T) {
	h := newHarness(t, store.SQLite)
	tok := h.token("sunrise", "owner@sunrise.example", "console")
	first := h.call("POST", "/practices/sunrise/invitations", tok, `{"email":"pat@sunrise.example","roles":["practitioner"]}`, nil)
	if first.status != http.StatusCreated {
		t.Fatalf("first invitation: %d %s", first.status, first.body)
	}
	again := h.call("POST", "/practices/sunrise/invitations", tok, `{"email":"pat@sunrise.example","roles":["biller"]}`, nil)
	var body struct {
		Error      string `json:"error"`
		Invitation struct {
			ID    string   `json:"invitation_id"`
			Roles []string `json:"roles"`
		} `json:"invitation"`
	}
	if err := json.Unmarshal(again.body, &body); err != nil || again.status != http.StatusConflict ||
		body.Error != "invitation_pending" || !slices.Equal(body.Invitation.Roles, []string{"practitioner"}) {
		t.Fatalf("re-invite: %d %s", again.status, again.body)
	}
	updated := h.call("POST", "/practices/sunrise/invitations", tok,
		`{"email":"pat@sunrise.example","roles":["biller"],"update_pending":true}`, nil)
	if updated.status != http.StatusCreated || !strings.Contains(string(updated.body), `"biller"`) {
		t.Fatalf("update: %d %s", updated.status, updated.body)
	}
}

// TestConsoleReinviteAsksToUpdate: the console's invite form, given an
// address with a pending invitation, changes nothing and asks whether to
// update it; confirming replaces it.
func TestConsoleReinviteAsksToUpdate(t *testing.T) {
	h := newHarness(t, store.SQLite)
	b := h.browser()
	if st := b.Login("sunrise", "owner@sunrise.example", ownerPw); st != http.StatusSeeOther {
		t.Fatalf("login: %d", st)
	}
	invite := func(role string, update bool) (int, string, string) {
		f := url.Values{"email": {"pat@sunrise.example"}, "role": {role}}
		if update {
			f.Set("update_pending", "yes")
		}
		return b.Do("POST", "/p/sunrise/admin/invite", f, true)
	}
	if st, loc, _ := invite("practitioner", false); st != http.StatusSeeOther || !strings.Contains(loc, "done=invited") {
		t.Fatalf("first invitation: %d %s", st, loc)
	}
	st, _, page := invite("biller", false)
	if st != http.StatusConflict || !strings.Contains(page, "already has a pending invitation as Practitioner") ||
		!strings.Contains(page, `name="update_pending" value="yes"`) || !strings.Contains(page, "Update the invitation") {
		t.Fatalf("re-invite: %d\n%s", st, refusalText(page))
	}
	if m, err := h.app.Store.MemberByEmail(h.ctx, h.sunrise.ID, "pat@sunrise.example"); err != nil || !slices.Equal(m.Roles, []string{"practitioner"}) {
		t.Fatalf("roles after the question: %v, %v", m.Roles, err)
	}
	if st, loc, _ := invite("biller", true); st != http.StatusSeeOther || !strings.Contains(loc, "done=invited") {
		t.Fatalf("update: %d %s", st, loc)
	}
	if m, err := h.app.Store.MemberByEmail(h.ctx, h.sunrise.ID, "pat@sunrise.example"); err != nil || !slices.Equal(m.Roles, []string{"biller"}) {
		t.Fatalf("roles after the update: %v, %v", m.Roles, err)
	}
}
