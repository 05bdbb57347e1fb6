package adminapi_test

import (
	"errors"
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
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
)

// TestNobodyGrantsWhatTheyDoNotHold is the class of finding F1 (security
// review 2026-12: an administrator made an outside account an owner through
// a single sign-on provider's join role and a join approval). Every path that
// ends with someone holding a role or permission is tried by a member with
// the default preset's "administrator" role — members.manage, roles.assign,
// settings.edit, but not the owner's permissions — trying to give "owner" (or
// a permission only the owner holds), through the services, the admin API
// and the console where they offer the path. Each is refused as forbidden
// (and audited), and nobody ends up an owner; the console offers only join
// roles she may give. Control rows show the same paths still work
// for a role the administrator holds.
//
// Paths without an actor to check are covered elsewhere: accepting an
// invitation (by password or SSO) gives exactly the invitation's roles,
// which the inviter (or whoever resent it) was checked for; a join request
// is never approved automatically (sso.requestJoin only stores it pending);
// the CLI acts as the operator, who holds everything.
func TestNobodyGrantsWhatTheyDoNotHold(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			h := newHarness(t, engine)
			ctx := h.ctx
			const carolEmail = "carol@sunrise.example"
			h.addMember("sunrise", carolEmail, "Carol Admin", []string{"administrator"})
			h.addMember("sunrise", "former@sunrise.example", "Former Owner", []string{"owner"})
			carolID, targetID, formerID := h.ids[carolEmail], h.ids["nobody@sunrise.example"], h.ids["former@sunrise.example"]
			if err := h.app.Store.SetMemberStatus(ctx, formerID, store.StatusDeactivated, time.Now()); err != nil {
				t.Fatal(err)
			}
			carol := account.Actor{MemberID: carolID}
			carolRoles := roles.Actor{PracticeID: h.sunrise.ID, MemberID: carolID}
			tok := h.token("sunrise", carolEmail, "console")
			console := h.browser()
			if st := console.Login("sunrise", carolEmail, ownerPw); st != http.StatusSeeOther {
				t.Fatalf("carol's console login: %d", st)
			}

			// Set up by the operator (an owner could have done the same):
			// invitations and join providers offering owner and forms_admin,
			// and pending join requests for each.
			invite := func(email, role string) string {
				inv, err := h.app.Onboarding.Invite(ctx, "sunrise", account.Operator(), onboarding.InviteRequest{Email: email,
					Roles: []string{role}}, account.Meta{})
				if err != nil {
					t.Fatal(err)
				}
				return inv.ID
			}
			ownerInv, ownerInv2 := invite("new-owner@sunrise.example", "owner"), invite("new-owner2@sunrise.example", "owner")
			schedInv := invite("new-forms@sunrise.example", "forms_admin")
			provider := func(name, role string) sso.Provider {
				p, err := h.app.SSO.AddProvider(ctx, "sunrise", account.Operator(), sso.NewProvider{Kind: sso.KindGeneric,
					DisplayName: name, Issuer: "https://idp.example.org", ClientID: name, ClientSecret: "s3cret",
					AllowedDomains: []string{"outside.example"}, JoinEnabled: true, JoinRole: role}, account.Meta{})
				if err != nil {
					t.Fatal(err)
				}
				return p
			}
			ownerProv, schedProv := provider("owner-join", "owner"), provider("forms-join", "forms_admin")
			joinRequest := func(id string, p sso.Provider) string {
				if err := h.app.Store.CreateSSOJoinRequest(ctx, store.SSOJoinRequest{ID: id, PracticeID: h.sunrise.ID,
					ProviderID: p.ID, Issuer: p.Issuer, Subject: "sub-" + id, Email: id + "@outside.example", Name: id,
					RoleKey: p.JoinRole, CreatedAt: time.Now()}); err != nil {
					t.Fatal(err)
				}
				return id
			}
			ownerJoin, ownerJoin2 := joinRequest("jr-owner", ownerProv), joinRequest("jr-owner-console", ownerProv)
			schedJoin := joinRequest("jr-forms", schedProv)

			newProvider := func(clientID, role string) sso.NewProvider {
				return sso.NewProvider{Kind: sso.KindGeneric, DisplayName: "Evil IdP", Issuer: "https://evil.example",
					ClientID: clientID, ClientSecret: "s3cret", AllowedDomains: []string{"evil.example"},
					JoinEnabled: true, JoinRole: role}
			}
			api := func(method, path, body string) error {
				r := h.call(method, "/practices/sunrise"+path, tok, nilIfEmpty(body), nil)
				switch {
				case r.status == http.StatusForbidden && decodeError(t, r) == "forbidden":
					return account.ErrForbidden
				case r.status/100 == 2:
					return nil
				}
				return errors.New(string(r.body))
			}
			consolePost := func(path string, form url.Values) error {
				st, loc, body := console.Do("POST", "/p/sunrise/admin"+path, form, true)
				switch {
				case st == http.StatusForbidden:
					return account.ErrForbidden
				case st == http.StatusSeeOther && strings.Contains(loc, "done="):
					return nil
				}
				return errors.New(body)
			}
			apiProvider := func(clientID, role string) string {
				return `{"kind":"generic","display_name":"Evil IdP","issuer":"https://evil.example","client_id":"` + clientID +
					`","client_secret":"s3cret","allowed_domains":["evil.example"],"join_enabled":true,"join_role":"` + role + `"}`
			}
			consoleProvider := func(clientID, role string) url.Values {
				return url.Values{"kind": {"generic"}, "display_name": {"Evil IdP"}, "issuer": {"https://evil.example"},
					"client_id": {clientID}, "client_secret": {"s3cret"}, "allowed_domains": {"evil.example"},
					"join_enabled": {"yes"}, "join_role": {role}}
			}

			tests := []struct {
				name    string
				try     func() error
				allowed bool // a control: the administrator holds what this gives
			}{
				// F1 itself: the provider's join role, then the approval.
				{"sso provider join_role owner (service)", func() error {
					_, err := h.app.SSO.AddProvider(ctx, "sunrise", carol, newProvider("evil-1", "owner"), account.Meta{})
					return err
				}, false},
				{"sso provider join_role owner (admin API)", func() error {
					return api("POST", "/sso-providers", apiProvider("evil-2", "owner"))
				}, false},
				{"sso provider join_role owner (console)", func() error {
					return consolePost("/sign-in/providers", consoleProvider("evil-3", "owner"))
				}, false},
				{"sso provider join_role forms_admin (service)", func() error {
					_, err := h.app.SSO.AddProvider(ctx, "sunrise", carol, newProvider("ok-1", "forms_admin"), account.Meta{})
					return err
				}, true},
				{"sso provider join_role forms_admin (admin API)", func() error {
					return api("POST", "/sso-providers", apiProvider("ok-2", "forms_admin"))
				}, true},
				{"approve a join request for owner, provider set by the operator (service)", func() error {
					_, err := h.app.SSO.DecideJoin(ctx, "sunrise", carol, ownerJoin, true, account.Meta{})
					return err
				}, false},
				{"approve a join request for owner (console)", func() error {
					return consolePost("/sign-in/requests/"+ownerJoin2+"/approve", url.Values{})
				}, false},
				{"approve a join request for forms_admin (service)", func() error {
					_, err := h.app.SSO.DecideJoin(ctx, "sunrise", carol, schedJoin, true, account.Meta{})
					return err
				}, true},
				// Invitations: a new one, and a fresh link for one an owner made.
				{"invite as owner (service)", func() error {
					_, err := h.app.Onboarding.Invite(ctx, "sunrise", carol, onboarding.InviteRequest{Email: "x1@sunrise.example",
						Roles: []string{"owner"}}, account.Meta{})
					return err
				}, false},
				{"invite as owner (admin API)", func() error {
					return api("POST", "/invitations", `{"email":"x2@sunrise.example","roles":["owner"]}`)
				}, false},
				{"resend an owner's invitation (service)", func() error {
					_, err := h.app.Onboarding.ResendInvitation(ctx, "sunrise", carol, ownerInv, account.Meta{})
					return err
				}, false},
				{"resend an owner's invitation (admin API)", func() error {
					return api("POST", "/invitations/"+ownerInv2+"/resend", "")
				}, false},
				{"resend a forms administrator's invitation (admin API)", func() error {
					return api("POST", "/invitations/"+schedInv+"/resend", "")
				}, true},
				// Roles, overrides, member options.
				{"assign owner (service)", func() error {
					return h.app.Roles.SetMemberRoles(ctx, carolRoles, targetID, []string{"owner"}, roles.Meta{})
				}, false},
				{"assign owner (admin API)", func() error {
					return api("PUT", "/members/"+targetID+"/roles", `{"roles":["owner"]}`)
				}, false},
				{"assign owner to herself (admin API)", func() error {
					return api("PUT", "/members/"+carolID+"/roles", `{"roles":["administrator","owner"]}`)
				}, false},
				{"override granting audit.view (service)", func() error {
					return h.app.Roles.SetMemberOverrides(ctx, carolRoles, targetID,
						[]roles.Override{{Permission: "audit.view", Grant: true}}, roles.Meta{})
				}, false},
				{"override granting roles.define (admin API)", func() error {
					return api("PUT", "/members/"+targetID+"/overrides", `{"overrides":[{"permission":"roles.define","grant":true}]}`)
				}, false},
				{"member option full_clinical_access (admin API)", func() error {
					return api("PUT", "/members/"+targetID+"/options/full_clinical_access", `{"on":true}`)
				}, false},
				// Bringing a former owner back.
				{"reactivate a former owner (service)", func() error {
					_, err := h.app.Accounts.ReactivateMember(ctx, "sunrise", carol, formerID, account.Meta{})
					return err
				}, false},
				{"reactivate a former owner (admin API)", func() error {
					return api("POST", "/members/"+formerID+"/reactivate", "")
				}, false},
				// Emergency access.
				{"emergency access to all notes (service)", func() error {
					_, err := h.app.Roles.GrantElevation(ctx, carolRoles, targetID, []string{"clinical_notes.view:all"},
						30*time.Minute, "covering for a colleague today", roles.Meta{})
					return err
				}, false},
				{"emergency access to all notes (admin API)", func() error {
					return api("POST", "/members/"+targetID+"/elevations",
						`{"permissions":["clinical_notes.view:all"],"duration_minutes":30,"reason":"covering for a colleague today"}`)
				}, false},
			}
			for _, tc := range tests {
				err := tc.try()
				switch {
				case tc.allowed && err != nil:
					t.Errorf("%s: %v, want success", tc.name, err)
				case !tc.allowed && !errors.Is(err, account.ErrForbidden) && !errors.Is(err, roles.ErrForbidden):
					t.Errorf("%s: %v, want forbidden", tc.name, err)
				}
			}

			// The console offers only join roles she may give, and a refused
			// provider keeps the form (never the secret) and says why.
			if _, _, page := console.Do("GET", "/p/sunrise/admin/sign-in", nil, false); !strings.Contains(page, `<option value="forms_admin"`) ||
				strings.Contains(page, `<option value="owner"`) {
				t.Errorf("carol's join-role choices:\n%s", page)
			}
			st, _, page := console.Do("POST", "/p/sunrise/admin/sign-in/providers", consoleProvider("evil-4", "owner"), true)
			if st != http.StatusForbidden || !strings.Contains(page, "choose a role you may give") ||
				!strings.Contains(page, `value="evil-4"`) || strings.Contains(page, "s3cret") {
				t.Errorf("refused console provider: %d\n%s", st, page)
			}

			// Nobody but the practice's owner holds owner; the former owner
			// stays deactivated; the owner invitations were not resent.
			held, err := h.app.Store.PracticeMemberRoles(ctx, h.sunrise.ID)
			if err != nil {
				t.Fatal(err)
			}
			for id, rs := range held {
				m, err := h.app.Store.MemberByID(ctx, h.sunrise.ID, id)
				if err != nil {
					t.Fatal(err)
				}
				if slices.Contains(rs, "owner") && m.Email != "owner@sunrise.example" &&
					m.Status != store.StatusInvited && m.Status != store.StatusDeactivated {
					t.Errorf("%s (%s) holds owner", m.Email, m.Status)
				}
			}
			for _, id := range []string{ownerInv, ownerInv2} {
				if inv, err := h.app.Store.InvitationByID(ctx, h.sunrise.ID, id); err != nil || inv.Sends != 1 {
					t.Errorf("owner invitation %s: sends %d, %v", id, inv.Sends, err)
				}
			}
			for _, id := range []string{ownerJoin, ownerJoin2} {
				if j, err := h.app.Store.SSOJoinRequestByID(ctx, h.sunrise.ID, id); err != nil || j.Status != "pending" {
					t.Errorf("join request %s: %q %v", id, j.Status, err)
				}
			}
			// The refusals of the new checks are audited.
			evs, err := h.app.Store.ListAudit(ctx, h.sunrise.ID, 500)
			if err != nil {
				t.Fatal(err)
			}
			var refused []string
			for _, e := range evs {
				if e.Outcome == "failure" && e.ActorID == carolID {
					refused = append(refused, e.Action)
				}
			}
			for _, want := range []string{"sso.provider.add", "sso.join.approved", "invitation.resend"} {
				if !slices.Contains(refused, want) {
					t.Errorf("no refused %s in the audit trail: %v", want, refused)
				}
			}
		})
	}
}
