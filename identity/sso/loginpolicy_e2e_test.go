package sso_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/sso"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
)

// TestSSOPathsAndTheLoginPolicy (issue 17 point 5): the single sign-on paths
// into a practice — accepting an invitation with SSO, and a join request
// approved by an administrator — under a login policy that names the
// person's role and without one. A login through SSO is what the policy
// asks for (amr fed: "passkey or single sign-on", docs/security.md), so both
// paths lead to a session whose app tokens say amr fed, and nothing on them
// yields a password session: the member they create has no password. The
// password paths (reset, invitation, temporary password) are tested in
// identity/oidc (TestNoPathGetsPastTheLoginPolicy).
func TestSSOPathsAndTheLoginPolicy(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			if engine == store.Postgres {
				storetest.RequirePostgres(t)
			}
			w := newWorld(t, engine)
			down := w.down.srv.URL
			role := w.role(w.down, downSlug)
			ctx := gooidc.ClientContext(w.ctx, w.down.srv.Client())
			ctx = context.WithValue(ctx, oauth2.HTTPClient, w.down.srv.Client())
			rp, err := gooidc.NewProvider(ctx, down)
			if err != nil {
				t.Fatal(err)
			}
			oc := &oauth2.Config{ClientID: "ehr", ClientSecret: downSecret, RedirectURL: ehrCB, Endpoint: rp.Endpoint(),
				Scopes: []string{gooidc.ScopeOpenID, "email"}}

			// appAMR runs an app's code flow in browser b (already signed
			// in) and returns the ID token's amr, or fails.
			appAMR := func(t *testing.T, b *browser) []string {
				t.Helper()
				verifier := oauth2.GenerateVerifier()
				next, _ := url.Parse(oc.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("practice", downSlug)))
				for range 6 {
					if strings.HasPrefix(next.String(), ehrCB) {
						break
					}
					resp, body := b.get(next.String())
					if resp.StatusCode/100 != 3 {
						t.Fatalf("the app's code flow stopped at %s: %d %s", next, resp.StatusCode, body)
					}
					next = next.ResolveReference(location(t, resp))
				}
				code := next.Query().Get("code")
				if code == "" {
					t.Fatalf("no code: %s", next)
				}
				tok, err := oc.Exchange(ctx, code, oauth2.VerifierOption(verifier))
				if err != nil {
					t.Fatal(err)
				}
				idt, err := rp.Verifier(&gooidc.Config{ClientID: "ehr"}).Verify(ctx, tok.Extra("id_token").(string))
				if err != nil {
					t.Fatal(err)
				}
				var c struct {
					AMR []string `json:"amr"`
				}
				if err := idt.Claims(&c); err != nil {
					t.Fatal(err)
				}
				return c.AMR
			}

			paths := []struct {
				name string
				// run brings email in through SSO in browser b, signed in.
				run func(t *testing.T, b *browser, email string)
			}{
				{"invitation accepted with SSO", func(t *testing.T, b *browser, email string) {
					token := w.invite(w.down, downSlug, email)
					_, page := b.get(down + "/p/" + downSlug + "/invite?token=" + url.QueryEscape(token))
					cb := w.upstreamLogin(b, down+link(t, page, "Accept with Clinic Workspace"), email)
					if resp, body := b.get(cb.String()); resp.StatusCode != http.StatusSeeOther {
						t.Fatalf("callback: %d %s", resp.StatusCode, body)
					}
				}},
				{"join request approved", func(t *testing.T, b *browser, email string) {
					if _, resp, body := w.signIn(w.browser(), email, "Sign in with Join Clinic"); resp.StatusCode != http.StatusAccepted {
						t.Fatalf("join: %d %s", resp.StatusCode, body)
					}
					reqs, err := w.down.app.SSO.JoinRequests(w.ctx, downSlug, account.Operator(), "pending")
					if err != nil {
						t.Fatal(err)
					}
					i := slices.IndexFunc(reqs, func(j sso.JoinRequest) bool { return j.Email == email })
					if i < 0 {
						t.Fatalf("no join request for %s: %+v", email, reqs)
					}
					if _, err := w.down.app.SSO.DecideJoin(w.ctx, downSlug, account.Operator(), reqs[i].ID, true, account.Meta{}); err != nil {
						t.Fatal(err)
					}
					if _, resp, body := w.signIn(b, email, "Sign in with Join Clinic"); resp.StatusCode != http.StatusSeeOther {
						t.Fatalf("login after approval: %d %s", resp.StatusCode, body)
					}
				}},
			}
			for i, pth := range paths {
				for _, policy := range []bool{true, false} {
					name := pth.name + map[bool]string{true: " under the policy", false: " without it"}[policy]
					t.Run(name, func(t *testing.T) {
						email := fmt.Sprintf("sso-policy-%d-%t@clinic.example", i, policy)
						w.member(w.up, upSlug, email)
						var strong []string
						if policy {
							strong = []string{role}
						}
						if _, err := w.down.app.Accounts.SetLoginPolicy(w.ctx, downSlug, account.Operator(), strong, account.Meta{}); err != nil {
							t.Fatal(err)
						}
						b := w.browser()
						pth.run(t, b, email)
						if got := w.signedInAs(b); got != email {
							t.Fatalf("signed in as %q, want %s", got, email)
						}
						if got := appAMR(t, b); !slices.Equal(got, []string{"fed"}) {
							t.Errorf("amr = %v, want [fed]", got)
						}
						m := w.downMember(email)
						if !slices.Contains(m.Roles, role) || m.PasswordHash != "" {
							t.Errorf("member: roles %v, has a password %v", m.Roles, m.PasswordHash != "")
						}
					})
				}
			}
		})
	}
}
