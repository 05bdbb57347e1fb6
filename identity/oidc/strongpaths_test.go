package oidc_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"golang.org/x/oauth2"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/account/accounttest"
	"github.com/frontdeskhq/frontdesk/identity/httpserver"
	"github.com/frontdeskhq/frontdesk/identity/passkeys/passkeystest"
	"github.com/frontdeskhq/frontdesk/identity/password"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
	"github.com/frontdeskhq/frontdesk/invites"
)

// TestNoPathGetsPastTheLoginPolicy (issue 17 point 5, finding F8): every way
// a person sets a password without logging in first — a reset link, an
// invitation, replacing a temporary password — is tried with the practice's
// login policy naming the person's role and without it. Under the policy no
// session usable for the home page or an app exists, and no code is issued,
// until the person has registered a passkey (with the virtual authenticator)
// and logged in with it; the code then carries amr hwk. Without the policy
// the person reaches the app with a password (a reset only through the
// login page: it signs nobody in). Single sign-on paths satisfy the policy
// by themselves (amr fed, see docs/security.md) and are tested in
// identity/sso.
func TestNoPathGetsPastTheLoginPolicy(t *testing.T) {
	const (
		kimEmail = "kim@example.org"
		kimPw    = "silver otter canyon breeze 24 maple"
		newPw    = "violet anchor meadow drift 81 copper"
		tempPw   = "Temp0rary-Passw0rd-kimk"
	)
	type path struct {
		name string
		// prepare creates Kim in the state the path starts from and returns
		// the link token (reset, invitation) if any.
		prepare func(t *testing.T, e *policyEnv, p store.Practice) string
		// run walks the path in browser b (auth request id pending) and
		// returns the last response.
		run func(t *testing.T, e *policyEnv, b *http.Client, id, token string) *http.Response
		// signsIn: the path itself leaves the browser with a session.
		signsIn bool
	}
	member := func(t *testing.T, e *policyEnv, p store.Practice, status store.MemberStatus) store.Member {
		t.Helper()
		m := store.Member{ID: uuid.NewString(), PracticeID: p.ID, Email: kimEmail, Status: status,
			Roles: []string{"practitioner"}, CreatedAt: e.acc.Clock.Now()}
		if status == store.StatusActive {
			hash, err := password.NewHasher(accounttest.FastParams, 1).Hash(context.Background(), kimPw)
			if err != nil {
				t.Fatal(err)
			}
			m.PasswordHash, m.PasswordChangedAt = hash, e.acc.Clock.Now()
		}
		if err := e.store.CreateMember(context.Background(), m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	form := func(e *policyEnv, b *http.Client, path string, f url.Values) *http.Response {
		return (&site{e: e.env, c: b}).form(path, f)
	}
	paths := []path{
		{"reset link", func(t *testing.T, e *policyEnv, p store.Practice) string {
			m := member(t, e, p, store.StatusActive)
			token, hash, err := invites.NewToken(strings.NewReader(strings.Repeat("r", 64)))
			if err != nil {
				t.Fatal(err)
			}
			now := e.acc.Clock.Now()
			if err := e.store.CreateLink(context.Background(), store.Link{ID: uuid.NewString(), Purpose: store.PurposeReset,
				PracticeID: p.ID, MemberID: m.ID, Email: m.Email, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}, hash); err != nil {
				t.Fatal(err)
			}
			return token
		}, func(t *testing.T, e *policyEnv, b *http.Client, _, token string) *http.Response {
			return form(e, b, "/p/sunrise/reset", url.Values{"token": {token}, "new_password": {newPw}, "confirm_password": {newPw}})
		}, false},
		{"invitation", func(t *testing.T, e *policyEnv, p store.Practice) string {
			m := member(t, e, p, store.StatusInvited)
			token, hash, err := invites.NewToken(strings.NewReader(strings.Repeat("i", 64)))
			if err != nil {
				t.Fatal(err)
			}
			now := e.acc.Clock.Now()
			if err := e.store.CreateInvitation(context.Background(), store.Invitation{ID: uuid.NewString(), PracticeID: p.ID,
				MemberID: m.ID, Email: m.Email, Roles: m.Roles, InvitedBy: account.OperatorActorID, CreatedAt: now,
				UpdatedAt: now, ExpiresAt: now.Add(time.Hour)}, hash); err != nil {
				t.Fatal(err)
			}
			return token
		}, func(t *testing.T, e *policyEnv, b *http.Client, _, token string) *http.Response {
			return form(e, b, "/p/sunrise/invite", url.Values{"token": {token}, "new_password": {newPw}, "confirm_password": {newPw}})
		}, true},
		{"temporary password", func(t *testing.T, e *policyEnv, p store.Practice) string {
			m := member(t, e, p, store.StatusActive)
			hash, err := password.NewHasher(accounttest.FastParams, 1).Hash(context.Background(), tempPw)
			if err != nil {
				t.Fatal(err)
			}
			now := e.acc.Clock.Now()
			if err := e.store.CreateTemporaryPassword(context.Background(), store.TemporaryPassword{ID: uuid.NewString(),
				PracticeID: p.ID, MemberID: m.ID, PasswordHash: hash, IssuedBy: account.OperatorActorID, CreatedAt: now,
				ExpiresAt: now.Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
			return ""
		}, func(t *testing.T, e *policyEnv, b *http.Client, id, _ string) *http.Response {
			resp := e.postLogin(b, id, kimEmail, tempPw)
			_ = resp.Body.Close()
			if loc, _ := resp.Location(); loc == nil || loc.Path != "/p/sunrise/new-password" {
				t.Fatalf("temporary login = %d %v", resp.StatusCode, loc)
			}
			return form(e, b, "/p/sunrise/new-password", url.Values{"new_password": {newPw}, "confirm_password": {newPw},
				"authRequest": {id}})
		}, true},
	}

	for _, engine := range storetest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			for _, pth := range paths {
				for _, policy := range []bool{true, false} {
					t.Run(pth.name+map[bool]string{true: " under the policy", false: " without it"}[policy], func(t *testing.T) {
						e := newPolicyEnv(t, engine)
						ctx := context.Background()
						p := mustPractice(t, e)
						token := pth.prepare(t, e, p)
						var roles []string
						if policy {
							roles = []string{"practitioner"}
						}
						if _, err := e.acc.Service.SetLoginPolicy(ctx, "sunrise", account.Operator(), roles, account.Meta{}); err != nil {
							t.Fatal(err)
						}
						cfg := e.oauth("ehr", ehrSecret, ehrCB, "profile")
						verifier := oauth2.GenerateVerifier()
						b := e.browser()
						id := e.startAuth(b, cfg, verifier)
						resp := pth.run(t, e, b, id, token)
						_ = resp.Body.Close()
						loc, _ := resp.Location()
						if resp.StatusCode != http.StatusSeeOther || loc == nil {
							t.Fatalf("%s = %d, want a redirect", pth.name, resp.StatusCode)
						}
						if !strings.HasPrefix(loc.String(), e.srv.URL+"/p/sunrise/") {
							t.Fatalf("%s went straight to %v", pth.name, loc)
						}
						cookie := sessionCookie(e, b)
						switch {
						case !pth.signsIn && cookie != "":
							t.Fatalf("%s set a session cookie", pth.name)
						case !pth.signsIn && loc.Path != "/p/sunrise/login":
							t.Fatalf("%s went to %v, want the login page", pth.name, loc)
						case pth.signsIn && cookie == "":
							t.Fatalf("%s set no session cookie", pth.name)
						}

						if !pth.signsIn {
							// Log in with the new password: the login page applies the policy.
							id = e.startAuth(b, cfg, verifier)
							resp = e.postLogin(b, id, kimEmail, newPw)
							_ = resp.Body.Close()
							loc, _ = resp.Location()
							cookie = sessionCookie(e, b)
						}
						if !policy {
							// Continue ("Not now" on the passkey step, if offered): a code with amr pwd.
							if loc != nil && loc.Path == "/p/sunrise/add-passkey" {
								resp = form(e, b, "/p/sunrise/add-passkey/continue", url.Values{"authRequest": {id}})
								_ = resp.Body.Close()
							}
							code, where, status, body := e.follow(b, e.get(b, cfg.AuthCodeURL("st4te",
								oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("practice", "sunrise"))))
							if code == "" {
								t.Fatalf("no code without the policy: %v %d %s", where, status, body)
							}
							if got := e.amr(cfg, code, verifier); !slices.Equal(got, []string{"pwd"}) {
								t.Errorf("amr = %v, want [pwd]", got)
							}
							return
						}

						// Under the policy: the step asks for a passkey and nothing else works.
						if loc == nil || loc.Path != "/p/sunrise/add-passkey" {
							t.Fatalf("under the policy the browser went to %v, want the add-a-passkey step", loc)
						}
						if _, err := e.acc.Service.Authenticate(ctx, "sunrise", cookie); !errors.Is(err, account.ErrStrongLoginRequired) {
							t.Errorf("Authenticate(the new session) = %v, want ErrStrongLoginRequired", err)
						}
						page := e.get(b, loc.String())
						if body := readBody(page); page.StatusCode != http.StatusOK ||
							!strings.Contains(body, "requires a passkey for your role") || strings.Contains(body, "Not now") {
							t.Fatalf("step page: %d %s", page.StatusCode, body)
						}
						for _, p := range []string{"/p/sunrise/", "/p/sunrise/password", "/p/sunrise/passkeys"} {
							resp := e.get(b, p)
							_ = resp.Body.Close()
							if resp.StatusCode == http.StatusOK {
								t.Errorf("GET %s with the restricted session = 200", p)
							}
						}
						if resp := form(e, b, "/p/sunrise/add-passkey/continue", url.Values{"authRequest": {id}}); resp.StatusCode != http.StatusSeeOther {
							t.Errorf("not now: %d", resp.StatusCode)
						} else if l, _ := resp.Location(); l == nil || l.Path != "/p/sunrise/add-passkey" {
							t.Errorf("not now went to %v", l)
						}
						for _, u := range []string{"/p/sunrise/login?authRequest=" + url.QueryEscape(id),
							cfg.AuthCodeURL("st4te", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("practice", "sunrise")),
							cfg.AuthCodeURL("st4te", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("practice", "sunrise"),
								oauth2.SetAuthURLParam("prompt", "none"))} {
							if code, where, _, _ := e.follow(b, e.get(b, u)); code != "" {
								t.Fatalf("a code was issued before the ceremony (%s, stopped at %v)", u, where)
							}
						}

						// The ceremony, then a passkey login: a code with amr hwk.
						a := passkeystest.New(policyOrigin, policyRPID)
						if status := (&site{e: e.env, c: b}).enrol(a); status != http.StatusOK {
							t.Fatalf("passkey registration from the restricted session: %d", status)
						}
						id = e.startAuth(b, cfg, verifier)
						code, where, status, body := e.follow(b, e.passkeyLogin(b, a, id))
						if code == "" {
							t.Fatalf("no code after the ceremony: %v %d %s", where, status, body)
						}
						if got := e.amr(cfg, code, verifier); !slices.Equal(got, []string{"hwk", "user"}) {
							t.Errorf("amr = %v, want [hwk user]", got)
						}
					})
				}
			}
		})
	}
}

// sessionCookie is browser b's session cookie for the provider's site ("" for none).
func sessionCookie(e *policyEnv, b *http.Client) string {
	for _, c := range b.Jar.Cookies(mustURL(e.srv.URL)) {
		if c.Name == httpserver.SessionCookie {
			return c.Value
		}
	}
	return ""
}
