package oidc_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/oauth2"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/account/accounttest"
	"github.com/frontdeskhq/frontdesk/identity/httpserver"
	"github.com/frontdeskhq/frontdesk/identity/passkeys"
	"github.com/frontdeskhq/frontdesk/identity/passkeys/passkeystest"
	"github.com/frontdeskhq/frontdesk/identity/password"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
	"github.com/frontdeskhq/frontdesk/templates"
)

const (
	policyOrigin = passkeystest.Origin
	policyRPID   = passkeystest.RPID
	ninaEmail    = "nina@example.org"
	ninaPw       = "amber lantern quiet meadow 17 harbor"
)

// policyEnv is the provider's env with passkeys on and a second member,
// Nina, a practitioner.
type policyEnv struct {
	*env
	pk *passkeys.Service
}

func newPolicyEnv(t *testing.T, engine store.Engine) *policyEnv {
	t.Helper()
	e := newEnv(t, engine)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	pk := passkeystest.NewService(t, e.store, e.acc.Service, e.acc.Clock.Now)
	pages, err := templates.ParsePages()
	if err != nil {
		t.Fatal(err)
	}
	h, err := httpserver.New(httpserver.Deps{Accounts: e.acc.Service, Onboarding: e.acc.Onboard, DB: e.store, Pages: pages, Logger: logger,
		Registry: prometheus.NewRegistry(), PublicURL: e.srv.URL, MaxBodyBytes: 64 << 10, SessionLifetime: 12 * time.Hour,
		OIDC: e.provider, Passkeys: pk})
	if err != nil {
		t.Fatal(err)
	}
	e.late.mu.Lock()
	e.late.h = h
	e.late.mu.Unlock()
	ctx := context.Background()
	p, err := e.store.PracticeBySlug(ctx, "sunrise")
	if err != nil {
		t.Fatal(err)
	}
	hash, err := password.NewHasher(accounttest.FastParams, 1).Hash(ctx, ninaPw)
	if err != nil {
		t.Fatal(err)
	}
	now := e.acc.Clock.Now()
	if err := e.store.CreateMember(ctx, store.Member{ID: uuid.NewString(), PracticeID: p.ID, Email: ninaEmail,
		Status: store.StatusActive, Roles: []string{"practitioner"}, PasswordHash: hash, PasswordChangedAt: now,
		CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	return &policyEnv{env: e, pk: pk}
}

// enrolOwner registers a passkey for the owner (through a fresh password
// session, as the account page does) and returns the authenticator.
func (e *policyEnv) enrolOwner() *passkeystest.Authenticator {
	e.t.Helper()
	ctx := context.Background()
	pr, _, err := e.acc.Service.Login(ctx, "sunrise", ownerEmail, ownerPw, account.Meta{})
	if err != nil {
		e.t.Fatal(err)
	}
	a := passkeystest.New(policyOrigin, policyRPID)
	opts, token, err := e.pk.BeginRegistration(ctx, pr)
	if err != nil {
		e.t.Fatal(err)
	}
	raw, _ := json.Marshal(opts)
	if _, err := e.pk.FinishRegistration(ctx, pr, token, "Laptop", bytes.NewReader(a.Create(raw)), account.Meta{}); err != nil {
		e.t.Fatal(err)
	}
	return a
}

// startAuth starts a code flow in browser b and returns the auth request id
// of the login page it lands on.
func (e *policyEnv) startAuth(b *http.Client, cfg *oauth2.Config, verifier string) string {
	e.t.Helper()
	resp := e.get(b, cfg.AuthCodeURL("st4te", oauth2.S256ChallengeOption(verifier), gooidc.Nonce("n0nce"),
		oauth2.SetAuthURLParam("practice", "sunrise")))
	_ = resp.Body.Close()
	loc, err := resp.Location()
	if err != nil || loc.Path != "/p/sunrise/login" {
		e.t.Fatalf("authorize = %d %v", resp.StatusCode, loc)
	}
	id := loc.Query().Get("authRequest")
	if id == "" {
		e.t.Fatalf("no auth request in %s", loc)
	}
	return id
}

// follow follows redirects within frontdesk from resp and returns the code
// that reached the app, or "" and where the browser stopped.
func (e *policyEnv) follow(b *http.Client, resp *http.Response) (string, *url.URL, int, string) {
	e.t.Helper()
	var last *url.URL
	for range 6 {
		if resp.StatusCode/100 != 3 {
			return "", last, resp.StatusCode, readBody(resp)
		}
		_ = resp.Body.Close()
		loc, err := resp.Location()
		if err != nil {
			e.t.Fatal(err)
		}
		if strings.HasPrefix(loc.String(), ehrCB) {
			return loc.Query().Get("code"), loc, resp.StatusCode, ""
		}
		last = loc
		resp = e.get(b, loc.String())
	}
	e.t.Fatal("too many redirects")
	return "", nil, 0, ""
}

// passkeyLogin logs browser b in with a's passkey, continuing authRequest.
func (e *policyEnv) passkeyLogin(b *http.Client, a *passkeystest.Authenticator, authRequest string) *http.Response {
	e.t.Helper()
	post := func(path string, body []byte) (int, map[string]json.RawMessage) {
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", e.srv.URL)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		res, err := b.Do(req)
		if err != nil {
			e.t.Fatal(err)
		}
		var out map[string]json.RawMessage
		_ = json.Unmarshal([]byte(readBody(res)), &out)
		return res.StatusCode, out
	}
	status, begin := post("/p/sunrise/passkeys/login/begin", []byte(`{}`))
	if status != http.StatusOK {
		e.t.Fatalf("passkey login begin: %d", status)
	}
	var ceremony, next string
	_ = json.Unmarshal(begin["ceremony"], &ceremony)
	status, done := post("/p/sunrise/passkeys/login/finish?"+url.Values{"ceremony": {ceremony}, "authRequest": {authRequest}}.Encode(),
		a.Get(begin["options"]))
	_ = json.Unmarshal(done["redirect"], &next)
	if status != http.StatusOK || next == "" {
		e.t.Fatalf("passkey login finish: %d %v", status, done)
	}
	return e.get(b, next)
}

func (e *policyEnv) amr(cfg *oauth2.Config, code, verifier string) []string {
	e.t.Helper()
	octx := context.WithValue(e.ctx, oauth2.HTTPClient, e.srv.Client())
	tok, err := cfg.Exchange(octx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		e.t.Fatalf("exchange: %v", err)
	}
	rawID, _ := tok.Extra("id_token").(string)
	idt, err := e.rp.Verifier(&gooidc.Config{ClientID: cfg.ClientID}).Verify(octx, rawID)
	if err != nil {
		e.t.Fatal(err)
	}
	var c struct {
		AMR []string `json:"amr"`
	}
	if err := idt.Claims(&c); err != nil {
		e.t.Fatal(err)
	}
	return c.AMR
}

// TestLoginPolicy: a practice requiring a passkey or SSO for a role gets no
// code issued to a password login of a holder of that role, on the login
// page or at the provider; a passkey login gets one (amr hwk); other roles
// log in with passwords as before; wrong passwords are answered as ever.
func TestLoginPolicy(t *testing.T) {
	tests := []struct {
		name    string
		policy  []string
		passkey bool // the owner enrolled a passkey beforehand
		email   string
		pw      string
		// want: "code" (a code reaches the app with amr wantAMR), "enrol"
		// (sent to add a first passkey), "use_passkey" (403 login page),
		// "refused" (401, today's wrong-password answer).
		want    string
		wantAMR []string
	}{
		{"no policy: owner password", nil, false, ownerEmail, ownerPw, "code", []string{"pwd"}},
		{"policy owner: owner password, no passkey", []string{"owner"}, false, ownerEmail, ownerPw, "enrol", nil},
		{"policy owner: owner password, has passkey", []string{"owner"}, true, ownerEmail, ownerPw, "use_passkey", nil},
		{"policy owner: practitioner password", []string{"owner"}, false, ninaEmail, ninaPw, "code", []string{"pwd"}},
		{"policy owner,practitioner: practitioner password", []string{"owner", "practitioner"}, false, ninaEmail, ninaPw, "enrol", nil},
		{"policy owner: wrong owner password", []string{"owner"}, true, ownerEmail, ownerPw + " nope", "refused", nil},
		{"policy owner: unknown email", []string{"owner"}, false, "nobody@example.org", ownerPw, "refused", nil},
		{"policy owner: owner passkey", []string{"owner"}, true, ownerEmail, "", "code", []string{"hwk", "user"}},
	}
	for _, engine := range storetest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					e := newPolicyEnv(t, engine)
					ctx := context.Background()
					var a *passkeystest.Authenticator
					if tt.passkey {
						a = e.enrolOwner()
					}
					if _, err := e.acc.Service.SetLoginPolicy(ctx, "sunrise", account.Operator(), tt.policy, account.Meta{}); err != nil {
						t.Fatal(err)
					}
					cfg := e.oauth("ehr", ehrSecret, ehrCB, "profile")
					verifier := oauth2.GenerateVerifier()
					b := e.browser()
					id := e.startAuth(b, cfg, verifier)
					var resp *http.Response
					if tt.pw == "" {
						resp = e.passkeyLogin(b, a, id)
					} else {
						resp = e.postLogin(b, id, tt.email, tt.pw)
					}
					switch tt.want {
					case "code":
						code, where, status, body := e.follow(b, resp)
						if code == "" {
							t.Fatalf("no code: stopped at %v %d %s", where, status, body)
						}
						if got := e.amr(cfg, code, verifier); !slices.Equal(got, tt.wantAMR) {
							t.Errorf("amr = %v, want %v", got, tt.wantAMR)
						}
					case "enrol":
						loc, _ := resp.Location()
						_ = resp.Body.Close()
						if resp.StatusCode != http.StatusSeeOther || loc == nil || loc.Path != "/p/sunrise/add-passkey" ||
							loc.Query().Get("authRequest") != id {
							t.Fatalf("password login = %d %v, want the add-a-passkey step", resp.StatusCode, loc)
						}
						page := e.get(b, loc.String())
						body := readBody(page)
						if page.StatusCode != http.StatusOK || !strings.Contains(body, "requires a passkey for your role") ||
							!strings.Contains(body, `id="passkey-register"`) || strings.Contains(body, "Not now") {
							t.Fatalf("step page: %d %s", page.StatusCode, body)
						}
						// The session gets no code: authorizing again lands on the login page.
						code, where, status, _ := e.follow(b, e.get(b, cfg.AuthCodeURL("st4te", oauth2.S256ChallengeOption(verifier),
							oauth2.SetAuthURLParam("practice", "sunrise"))))
						if code != "" || status != http.StatusOK || where == nil || where.Path != "/p/sunrise/login" {
							t.Fatalf("restricted session: code %q, stopped at %v %d", code, where, status)
						}
						// Enrol the first passkey from the restricted session, then log in with it.
						a := passkeystest.New(policyOrigin, policyRPID)
						s := &site{e: e.env, c: b}
						if status := s.enrol(a); status != http.StatusOK {
							t.Fatalf("enrol from the restricted session: %d", status)
						}
						if status := s.enrol(passkeystest.New(policyOrigin, policyRPID)); status != http.StatusForbidden {
							t.Errorf("second passkey from the restricted session: %d, want 403", status)
						}
						id2 := e.startAuth(b, cfg, verifier)
						code, where, status, body = e.follow(b, e.passkeyLogin(b, a, id2))
						if code == "" {
							t.Fatalf("no code after enrolling: %v %d %s", where, status, body)
						}
						if got := e.amr(cfg, code, verifier); !slices.Equal(got, []string{"hwk", "user"}) {
							t.Errorf("amr = %v", got)
						}
					case "use_passkey":
						body := readBody(resp)
						if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "Log in with a passkey") ||
							!strings.Contains(body, `name="authRequest" value="`+id+`"`) {
							t.Fatalf("password login = %d %s", resp.StatusCode, body)
						}
						for _, c := range b.Jar.Cookies(mustURL(e.srv.URL)) {
							if c.Name == httpserver.SessionCookie {
								t.Errorf("a session cookie was set")
							}
						}
					case "refused":
						body := readBody(resp)
						if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "don&#39;t match an account") ||
							strings.Contains(body, "passkey or single sign-on") {
							t.Fatalf("wrong password = %d %s", resp.StatusCode, body)
						}
					}
				})
			}
		})
	}
}

func mustURL(raw string) *url.URL {
	u, err := url.Parse(raw)
	if err != nil {
		panic(err)
	}
	return u
}

// site registers passkeys through the JSON endpoints as the page's script does.
type site struct {
	e *env
	c *http.Client
}

func (s *site) post(path string, body []byte) (int, map[string]json.RawMessage) {
	req, _ := http.NewRequest(http.MethodPost, s.e.srv.URL+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", s.e.srv.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	res, err := s.c.Do(req)
	if err != nil {
		s.e.t.Fatal(err)
	}
	var out map[string]json.RawMessage
	_ = json.Unmarshal([]byte(readBody(res)), &out)
	return res.StatusCode, out
}

func (s *site) enrol(a *passkeystest.Authenticator) int {
	status, begin := s.post("/p/sunrise/passkeys/register/begin", []byte(`{}`))
	if status != http.StatusOK {
		return status
	}
	var ceremony string
	_ = json.Unmarshal(begin["ceremony"], &ceremony)
	status, _ = s.post("/p/sunrise/passkeys/register/finish?ceremony="+url.QueryEscape(ceremony), a.Create(begin["options"]))
	return status
}

// TestLoginPolicyAtTheProvider: the provider itself refuses a password
// session of a restricted role (not only the login page), and a policy change
// applies at the next login and authorization, also to a browser already
// signed in.
func TestLoginPolicyAtTheProvider(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			e := newPolicyEnv(t, engine)
			ctx := context.Background()
			cfg := e.oauth("ehr", ehrSecret, ehrCB, "profile")
			verifier := oauth2.GenerateVerifier()

			// No policy yet: a password login gets a code; the browser stays signed in.
			b := e.browser()
			id := e.startAuth(b, cfg, verifier)
			code, where, status, body := e.follow(b, e.postLogin(b, id, ownerEmail, ownerPw))
			if code == "" {
				t.Fatalf("before the policy: %v %d %s", where, status, body)
			}
			pr, _, err := e.acc.Service.Login(ctx, "sunrise", ownerEmail, ownerPw, account.Meta{})
			if err != nil || pr.StrongLoginRequired {
				t.Fatalf("login before the policy: %v %v", pr.StrongLoginRequired, err)
			}

			if _, err := e.acc.Service.SetLoginPolicy(ctx, "sunrise", account.Operator(), []string{"owner"}, account.Meta{}); err != nil {
				t.Fatal(err)
			}
			// The signed-in browser gets no new code: the login page asks again.
			code, where, status, _ = e.follow(b, e.get(b, cfg.AuthCodeURL("st4te", oauth2.S256ChallengeOption(verifier),
				oauth2.SetAuthURLParam("practice", "sunrise"))))
			if code != "" || status != http.StatusOK || where == nil || where.Path != "/p/sunrise/login" {
				t.Fatalf("after the policy, signed-in browser: code %q at %v %d", code, where, status)
			}
			// prompt=none cannot slip through either.
			resp := e.get(b, cfg.AuthCodeURL("st4te", oauth2.S256ChallengeOption(verifier),
				oauth2.SetAuthURLParam("practice", "sunrise"), oauth2.SetAuthURLParam("prompt", "none")))
			_ = resp.Body.Close()
			if loc, _ := resp.Location(); loc == nil || loc.Query().Get("error") != "login_required" {
				t.Errorf("prompt=none after the policy: %v", loc)
			}

			// The provider refuses a principal from a password session made
			// before the policy, whoever calls it.
			id = e.startAuth(b, cfg, verifier)
			req := httptest.NewRequest("POST", e.srv.URL+"/p/sunrise/login", nil)
			for _, c := range b.Jar.Cookies(mustURL(e.srv.URL)) {
				req.AddCookie(c)
			}
			if _, err := e.provider.CompleteLogin(ctx, req, id, pr); !errors.Is(err, account.ErrStrongLoginRequired) {
				t.Fatalf("CompleteLogin for a password session = %v, want ErrStrongLoginRequired", err)
			}
			pr.Session.AMR = []string{"fed"} // single sign-on satisfies the policy
			if _, err := e.provider.CompleteLogin(ctx, req, id, pr); err != nil {
				t.Fatalf("CompleteLogin for an SSO session = %v", err)
			}

			// Lifting the policy: the next password login gets a code again.
			if _, err := e.acc.Service.SetLoginPolicy(ctx, "sunrise", account.Operator(), nil, account.Meta{}); err != nil {
				t.Fatal(err)
			}
			b2 := e.browser()
			id = e.startAuth(b2, cfg, verifier)
			if code, where, status, body := e.follow(b2, e.postLogin(b2, id, ownerEmail, ownerPw)); code == "" {
				t.Fatalf("after lifting the policy: %v %d %s", where, status, body)
			}
		})
	}
}
