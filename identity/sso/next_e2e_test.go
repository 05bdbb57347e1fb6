package sso_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
)

// TestSSOLoginReturnsToNext: a signed-out browser following a mail link to a
// page of the practice is sent to the login page with next; the SSO button
// carries it, the flow keeps it on the server (it never goes to the
// upstream), and the callback returns there after checking it again. A next
// that is not one of the practice's own pages lands on the account page, and
// a pending app login takes precedence.
func TestSSOLoginReturnsToNext(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			if engine == store.Postgres {
				storetest.RequirePostgres(t)
			}
			ssoLoginReturnsToNext(t, newWorld(t, engine))
		})
	}
}

func ssoLoginReturnsToNext(t *testing.T, w *world) {
	down := w.down.srv.URL
	home := "/p/" + downSlug + "/"
	startURL := func(next string) string {
		return down + "/p/" + downSlug + "/sso/" + w.provider.ID + "/start?purpose=login&next=" + url.QueryEscape(next)
	}

	// carol links her work account from her account page.
	b := w.browser()
	if resp, _ := b.post(down+"/p/"+downSlug+"/login", down,
		url.Values{"email": {"carol@clinic.example"}, "password": {password}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("password login: %d", resp.StatusCode)
	}
	resp, page := b.post(down+"/p/"+downSlug+"/sso/"+w.provider.ID+"/link", down, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("link start: %d %s", resp.StatusCode, page)
	}
	if resp, body := b.get(w.upstreamLogin(b, link(t, page, ">Continue<"), "carolw@clinic.example").String()); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("link callback: %d %s", resp.StatusCode, body)
	}

	t.Run("the SSO button carries next and the login returns there", func(t *testing.T) {
		const asked = "/p/" + downSlug + "/sso?from=mail"
		b := w.browser()
		resp, _ := b.get(down + asked)
		login := location(t, resp)
		if login.Path != "/p/"+downSlug+"/login" || login.Query().Get("next") != asked {
			t.Fatalf("signed-out page sent to %s", login)
		}
		_, body := b.get(down + login.RequestURI())
		start := down + link(t, body, "Sign in with Clinic Workspace")
		if su, _ := url.Parse(start); su.Query().Get("next") != asked {
			t.Fatalf("SSO button does not carry next: %s", start)
		}
		cb := w.upstreamLogin(b, start, "carolw@clinic.example")
		if strings.Contains(cb.RawQuery, "next") || strings.Contains(cb.RawQuery, "from") {
			t.Errorf("next came back through the upstream: %s", cb)
		}
		resp, body = b.get(cb.String())
		if resp.StatusCode != http.StatusSeeOther || location(t, resp).RequestURI() != asked {
			t.Fatalf("callback: %d to %q, want %s\n%s", resp.StatusCode, resp.Header.Get("Location"), asked, body)
		}
		if got := w.signedInAs(b); got != "carol@clinic.example" {
			t.Fatalf("signed in as %q", got)
		}
	})

	t.Run("a next that is not the practice's own page is dropped", func(t *testing.T) {
		for _, next := range []string{"https://evil.example/p/" + downSlug + "/", "//evil.example/p/" + downSlug + "/",
			"/p/" + downSlug + "//evil.example", "/p/" + downSlug + "/\\evil.example", "/p/other/admin", "/elsewhere",
			"/p/" + downSlug + "/../other/admin", "/p/" + downSlug + "/%2e%2e/other/admin"} {
			b := w.browser()
			resp, body := b.get(w.upstreamLogin(b, startURL(next), "carolw@clinic.example").String())
			if resp.StatusCode != http.StatusSeeOther || location(t, resp).RequestURI() != home {
				t.Errorf("SSO login with next %q: %d to %q, want the account page\n%s", next, resp.StatusCode,
					resp.Header.Get("Location"), body)
			}
		}
	})

	t.Run("the stored next is checked again when the flow finishes", func(t *testing.T) {
		// As if the database were altered between start and callback.
		b := w.browser()
		cb := w.upstreamLogin(b, startURL("/p/"+downSlug+"/sso"), "carolw@clinic.example")
		w.execDown(`UPDATE sso_flows SET next_path = 'https://evil.example/'`)
		if resp, _ := b.get(cb.String()); resp.StatusCode != http.StatusSeeOther || location(t, resp).RequestURI() != home {
			t.Errorf("altered stored next: %d to %q, want the account page", resp.StatusCode, resp.Header.Get("Location"))
		}
	})

	t.Run("a pending app login takes precedence over next", func(t *testing.T) {
		ctx := gooidc.ClientContext(w.ctx, w.down.srv.Client())
		ctx = context.WithValue(ctx, oauth2.HTTPClient, w.down.srv.Client())
		rp, err := gooidc.NewProvider(ctx, down)
		if err != nil {
			t.Fatal(err)
		}
		oc := &oauth2.Config{ClientID: "ehr", ClientSecret: downSecret, RedirectURL: ehrCB, Endpoint: rp.Endpoint(),
			Scopes: []string{gooidc.ScopeOpenID, "email"}}
		b := w.browser()
		resp, _ := b.get(oc.AuthCodeURL("app-state", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()),
			oauth2.SetAuthURLParam("practice", downSlug)))
		_, body := b.get(down + location(t, resp).RequestURI())
		start := down + link(t, body, "Sign in with Clinic Workspace") + "&next=" + url.QueryEscape("/p/"+downSlug+"/sso")
		resp, _ = b.get(w.upstreamLogin(b, start, "carolw@clinic.example").String())
		next := location(t, resp)
		for range 5 {
			if strings.HasPrefix(next.String(), ehrCB) {
				break
			}
			resp, body = b.get(down + next.RequestURI())
			if resp.StatusCode/100 != 3 {
				t.Fatalf("continuing the auth request: %d %s", resp.StatusCode, body)
			}
			next = location(t, resp)
		}
		if !strings.HasPrefix(next.String(), ehrCB) || next.Query().Get("state") != "app-state" || next.Query().Get("code") == "" {
			t.Fatalf("SSO login with an auth request and next went to %s, want the app", next)
		}
	})
}
