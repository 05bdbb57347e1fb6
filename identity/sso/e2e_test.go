package sso_test

// End-to-end single sign-on against a REAL upstream OpenID provider: a
// second frontdesk instance (identity/app, in-process on an httptest TLS
// server) serves as the practice's Google Workspace / Entra stand-in, with a
// confidential client registered for the downstream practice. The
// downstream frontdesk uses go-oidc and x/oauth2 exactly as in production
// (discovery, JWKS, PKCE, token endpoint), over TLS, trusting the upstream
// through sso.ca_file.

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/app"
	"github.com/frontdeskhq/frontdesk/identity/config"
	"github.com/frontdeskhq/frontdesk/identity/onboarding"
	"github.com/frontdeskhq/frontdesk/identity/sso"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
)

const (
	upSlug     = "upco"
	downSlug   = "clinic"
	password   = "amber falcon ledger ripple 73 quartz"
	downSecret = "downstream-secret-0123456789abcdefghijklmnop"
	joinSecret = "join-secret-0123456789abcdefghijklmnopqrstuv"
	otherCB    = "https://other.example/cb"
	ehrCB      = "https://ehr.example/cb"
)

// lateHandler lets a server start (and know its URL) before its handler exists.
type lateHandler struct {
	mu sync.RWMutex
	h  http.Handler
}

func (l *lateHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	l.mu.RLock()
	h := l.h
	l.mu.RUnlock()
	h.ServeHTTP(w, r)
}

// tokenTamper sits in front of the upstream's token endpoint. It records the
// last token response issued to the downstream client and, when armed,
// replaces the id_token of the next response: a malicious or compromised
// token response the downstream must refuse.
type tokenTamper struct {
	mu          sync.Mutex
	next        http.Handler
	replaceWith string // id_token to substitute once; "" passes through
	lastIDToken string
}

func (t *tokenTamper) arm(idToken string) { t.mu.Lock(); t.replaceWith = idToken; t.mu.Unlock() }

func (t *tokenTamper) last() string { t.mu.Lock(); defer t.mu.Unlock(); return t.lastIDToken }

func (t *tokenTamper) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/token") {
		t.next.ServeHTTP(w, r)
		return
	}
	rec := httptest.NewRecorder()
	t.next.ServeHTTP(rec, r)
	body := rec.Body.Bytes()
	var m map[string]any
	if rec.Code == http.StatusOK && json.Unmarshal(body, &m) == nil {
		t.mu.Lock()
		if id, ok := m["id_token"].(string); ok {
			if t.replaceWith != "" {
				m["id_token"] = t.replaceWith
				t.replaceWith = ""
				body, _ = json.Marshal(m)
			} else {
				t.lastIDToken = id
			}
		}
		t.mu.Unlock()
	}
	for k, v := range rec.Header() {
		if k != "Content-Length" {
			w.Header()[k] = v
		}
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(body)
}

type instance struct {
	srv  *httptest.Server
	late *lateHandler
	app  *app.App
	cfg  *config.Config
}

func newServer(t *testing.T) *instance {
	late := &lateHandler{}
	srv := httptest.NewTLSServer(late)
	t.Cleanup(srv.Close)
	return &instance{srv: srv, late: late}
}

// start assembles frontdesk from cfg (as `frontdesk serve` does) behind the
// instance's server.
func (in *instance) start(t *testing.T, cfg *config.Config, wrap func(http.Handler) http.Handler) {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("config: %v", err)
	}
	a, err := app.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	var h http.Handler = a.Handler
	if wrap != nil {
		h = wrap(h)
	}
	in.late.mu.Lock()
	in.late.h = h
	in.late.mu.Unlock()
	in.app, in.cfg = a, cfg
}

func baseConfig(t *testing.T, publicURL string) *config.Config {
	cfg := config.Default()
	cfg.Server.PublicURL = publicURL
	cfg.Data.Dir = t.TempDir()
	cfg.Bootstrap.Demo = false
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	cfg.OIDC.MasterKey = base64.StdEncoding.EncodeToString(key)
	cfg.Passwords.Argon2MemoryKiB, cfg.Passwords.Argon2Iterations, cfg.Passwords.Argon2Parallelism = 7168, 5, 1
	return cfg
}

// portJar keeps cookies per host:port: both servers listen on 127.0.0.1 and
// use the same cookie names, as two real sites would not.
type portJar struct {
	mu   sync.Mutex
	jars map[string]*cookiejar.Jar
}

func (j *portJar) jar(u *url.URL) *cookiejar.Jar {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.jars == nil {
		j.jars = map[string]*cookiejar.Jar{}
	}
	if j.jars[u.Host] == nil {
		j.jars[u.Host], _ = cookiejar.New(nil)
	}
	return j.jars[u.Host]
}

func (j *portJar) SetCookies(u *url.URL, cs []*http.Cookie) { j.jar(u).SetCookies(u, cs) }
func (j *portJar) Cookies(u *url.URL) []*http.Cookie        { return j.jar(u).Cookies(u) }

// world is the upstream IdP, the downstream practice and their people.
type world struct {
	t          *testing.T
	up, down   *instance
	tamper     *tokenTamper
	ctx        context.Context
	downEngine store.Engine
	downDSN    string
	provider   sso.Provider // the downstream's provider (client fd-down)
	joinProv   sso.Provider // a second provider with domain join on
}

func newWorld(t *testing.T, engine store.Engine) *world {
	t.Helper()
	ctx := context.Background()
	up, down := newServer(t), newServer(t)
	w := &world{t: t, up: up, down: down, ctx: ctx, downEngine: engine}

	// The upstream trusts nothing of ours; it registers the downstream as a
	// confidential client of its practice, plus another app and a join client.
	upCfg := baseConfig(t, up.srv.URL)
	cb := down.srv.URL + "/p/" + downSlug + "/sso/callback"
	upCfg.Clients = []config.Client{
		{ID: "fd-down", Secret: downSecret, RedirectURIs: []string{cb}, Practice: upSlug,
			GrantTypes: []string{"authorization_code"}, Scopes: []string{"openid", "email", "profile"}},
		{ID: "fd-join", Secret: joinSecret, RedirectURIs: []string{cb}, Practice: upSlug,
			GrantTypes: []string{"authorization_code"}, Scopes: []string{"openid", "email", "profile"}},
		{ID: "fd-strict", Secret: joinSecret, RedirectURIs: []string{cb}, Practice: upSlug,
			GrantTypes: []string{"authorization_code"}, Scopes: []string{"openid", "email", "profile"}},
		{ID: "other-app", Secret: downSecret, RedirectURIs: []string{otherCB}, Practice: upSlug,
			GrantTypes: []string{"authorization_code"}, Scopes: []string{"openid", "email", "profile"}},
	}
	w.tamper = &tokenTamper{}
	up.start(t, upCfg, func(h http.Handler) http.Handler { w.tamper.next = h; return w.tamper })

	// The downstream trusts the upstream's certificate through sso.ca_file,
	// as an operator with a private CA would configure it.
	caFile := filepath.Join(t.TempDir(), "upstream-ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: up.srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	downCfg := baseConfig(t, down.srv.URL)
	downCfg.SSO.CAFile = caFile
	// The upstream listens on loopback, which frontdesk does not reach on a
	// practice's behalf unless the operator allows it, as for an
	// on-premises provider.
	downCfg.Outbound.AllowedRanges = []string{"127.0.0.1"}
	downCfg.Lockout.Blocks = "all" // a lock blocks SSO too, as it does passkeys
	downCfg.Clients = []config.Client{{ID: "ehr", Secret: downSecret, RedirectURIs: []string{ehrCB},
		GrantTypes: []string{"authorization_code"}, Scopes: []string{"openid", "email", "profile"}}}
	if engine == store.Postgres {
		_, w.downDSN = storetest.DSN(t, engine)
		downCfg.Database.URL = w.downDSN
	} else {
		w.downDSN = filepath.Join(downCfg.Data.Dir, "frontdesk.db")
	}
	down.start(t, downCfg, nil)

	// Upstream people: alice (owner), carol's work account, an impostor using
	// carol's downstream email, someone outside the domain, a new hire.
	w.practice(up, upSlug, "alice@clinic.example")
	for _, e := range []string{"carolw@clinic.example", "carol@clinic.example", "eve@elsewhere.example", "newhire@clinic.example"} {
		w.member(up, upSlug, e)
	}
	// Downstream: the owner and carol (password accounts).
	w.practice(down, downSlug, "owner@clinic.example")
	w.member(down, downSlug, "carol@clinic.example")

	var err error
	w.provider, err = down.app.SSO.AddProvider(ctx, downSlug, account.Operator(), sso.NewProvider{Kind: sso.KindGeneric,
		DisplayName: "Clinic Workspace", Issuer: up.srv.URL, ClientID: "fd-down", ClientSecret: downSecret,
		AllowedDomains: []string{"clinic.example"}}, account.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	w.joinProv, err = down.app.SSO.AddProvider(ctx, downSlug, account.Operator(), sso.NewProvider{Kind: sso.KindGeneric,
		DisplayName: "Join Clinic", Issuer: up.srv.URL, ClientID: "fd-join", ClientSecret: joinSecret,
		AllowedDomains: []string{"clinic.example"}, JoinEnabled: true, JoinRole: w.role(down, downSlug)}, account.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	// A provider without allowed domains: an invitation needs the exact email.
	if _, err = down.app.SSO.AddProvider(ctx, downSlug, account.Operator(), sso.NewProvider{Kind: sso.KindGeneric,
		DisplayName: "Strict Workspace", Issuer: up.srv.URL, ClientID: "fd-strict", ClientSecret: joinSecret},
		account.Meta{}); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *world) practiceID(in *instance, slug string) string {
	p, err := in.app.Accounts.Practice(w.ctx, slug)
	if err != nil {
		w.t.Fatal(err)
	}
	return p.ID
}

// role is a non-owner role key of the practice's model.
func (w *world) role(in *instance, slug string) string {
	m, err := in.app.Roles.Model(w.ctx, w.practiceID(in, slug))
	if err != nil {
		w.t.Fatal(err)
	}
	for _, r := range m.Roles {
		if r.Key != account.OwnerRole {
			return r.Key
		}
	}
	w.t.Fatal("no role besides owner")
	return ""
}

func (w *world) practice(in *instance, slug, owner string) {
	created, err := in.app.Accounts.CreatePractice(w.ctx, account.NewPractice{Slug: slug, Name: strings.ToUpper(slug),
		OwnerEmail: owner}, account.Meta{})
	if err != nil {
		w.t.Fatal(err)
	}
	u, _ := url.Parse(created.SetupURL)
	if _, _, err := in.app.Accounts.CompleteSetup(w.ctx, slug, u.Query().Get("token"), password, password, account.Meta{}); err != nil {
		w.t.Fatal(err)
	}
}

// invite invites email into the practice and returns the invitation token
// (read from the mail outbox, as the mail would carry it).
func (w *world) invite(in *instance, slug, email string) string {
	w.t.Helper()
	if _, err := in.app.Onboarding.Invite(w.ctx, slug, account.Operator(), onboarding.InviteRequest{Email: email,
		Roles: []string{w.role(in, slug)}}, account.Meta{}); err != nil {
		w.t.Fatal(err)
	}
	out, err := in.app.Store.ClaimOutbox(w.ctx, "test", time.Now(), time.Minute, 100)
	if err != nil {
		w.t.Fatal(err)
	}
	for _, o := range out {
		if o.Message.To != email {
			continue
		}
		for _, l := range o.Message.Links {
			if u, err := url.Parse(l); err == nil && u.Query().Get("token") != "" {
				return u.Query().Get("token")
			}
		}
	}
	w.t.Fatalf("no invitation mail to %s", email)
	return ""
}

func (w *world) member(in *instance, slug, email string) {
	w.t.Helper()
	if _, err := in.app.Onboarding.AcceptInvitation(w.ctx, slug, w.invite(in, slug, email), password, password, account.Meta{}); err != nil {
		w.t.Fatal(err)
	}
}

type browser struct {
	t *testing.T
	c *http.Client
}

func (w *world) browser() *browser {
	c := *w.up.srv.Client() // trusts httptest's certificate (both servers)
	c.Jar = &portJar{}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &browser{t: w.t, c: &c}
}

func (b *browser) get(raw string) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.c.Get(raw)
	if err != nil {
		b.t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	return resp, string(body)
}

func (b *browser) post(raw, origin string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, raw, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", origin)
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	return resp, string(body)
}

func location(t *testing.T, resp *http.Response) *url.URL {
	t.Helper()
	u, err := resp.Location()
	if err != nil {
		t.Fatalf("status %d, no redirect: %v", resp.StatusCode, err)
	}
	return u
}

var (
	hrefRE        = regexp.MustCompile(`href="([^"]+)"`)
	authRequestRE = regexp.MustCompile(`name="authRequest" value="([^"]+)"`)
)

// link finds the href of the link whose text contains label.
func link(t *testing.T, page, label string) string {
	t.Helper()
	i := strings.Index(page, label)
	if i < 0 {
		t.Fatalf("no %q on the page:\n%s", label, page)
	}
	hrefs := hrefRE.FindAllStringSubmatch(page[:i], -1)
	if len(hrefs) == 0 {
		t.Fatalf("no link before %q", label)
	}
	return html.UnescapeString(hrefs[len(hrefs)-1][1])
}

// upstreamLogin follows from a URL at the upstream (or the downstream's start
// link) until the upstream redirects back to the downstream's callback,
// logging in at the upstream as email when it asks. It returns the callback
// URL without requesting it.
func (w *world) upstreamLogin(b *browser, start, email string) *url.URL {
	w.t.Helper()
	next, _ := url.Parse(start)
	for range 12 {
		if next.Host == w.down.srv.Listener.Addr().String() && strings.HasSuffix(next.Path, "/sso/callback") {
			return next
		}
		resp, body := b.get(next.String())
		if resp.StatusCode == http.StatusOK && strings.Contains(body, `name="password"`) {
			m := authRequestRE.FindStringSubmatch(body)
			if m == nil {
				w.t.Fatalf("upstream login page without authRequest:\n%s", body)
			}
			resp, body = b.post(w.up.srv.URL+"/p/"+upSlug+"/login", w.up.srv.URL,
				url.Values{"email": {email}, "password": {password}, "authRequest": {m[1]}})
		}
		if resp.StatusCode/100 != 3 {
			w.t.Fatalf("GET %s: status %d:\n%s", next, resp.StatusCode, body)
		}
		next = next.ResolveReference(location(w.t, resp))
	}
	w.t.Fatal("too many redirects")
	return nil
}

// signIn runs a whole SSO login from the downstream login page and returns
// the callback's response.
func (w *world) signIn(b *browser, email, buttonLabel string) (*url.URL, *http.Response, string) {
	w.t.Helper()
	_, page := b.get(w.down.srv.URL + "/p/" + downSlug + "/login")
	start := w.down.srv.URL + link(w.t, page, buttonLabel)
	cb := w.upstreamLogin(b, start, email)
	resp, body := b.get(cb.String())
	return cb, resp, body
}

// signedInAs reports the downstream account page's email, or "".
func (w *world) signedInAs(b *browser) string {
	resp, body := b.get(w.down.srv.URL + "/p/" + downSlug + "/")
	if resp.StatusCode != http.StatusOK {
		return ""
	}
	m := regexp.MustCompile(`id="member-email">([^<]+)<`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return m[1]
}

func (w *world) downMember(email string) store.Member {
	m, err := w.down.app.Store.MemberByEmail(w.ctx, w.practiceID(w.down, downSlug), email)
	if err != nil {
		w.t.Fatalf("member %s: %v", email, err)
	}
	return m
}

func (w *world) audits(action, outcome string) []store.AuditEvent {
	evs, err := w.down.app.Store.ListAudit(w.ctx, w.practiceID(w.down, downSlug), 1000)
	if err != nil {
		w.t.Fatal(err)
	}
	var out []store.AuditEvent
	for _, e := range evs {
		if e.Action == action && e.Outcome == outcome {
			out = append(out, e)
		}
	}
	return out
}

func (w *world) lastFailureReason() string {
	evs := w.audits("sso.signin", "failure")
	if len(evs) == 0 {
		return ""
	}
	last := evs[0]
	for _, e := range evs {
		if e.ID > last.ID {
			last = e
		}
	}
	return last.Details["reason"]
}

// expireFlows moves every begun flow's expiry into the past, as if the
// person had taken longer than sso.flow_ttl at the upstream.
func (w *world) expireFlows() {
	w.t.Helper()
	w.execDown(`UPDATE sso_flows SET expires_at = 1`)
}

// execDown runs a statement on the downstream's database directly.
func (w *world) execDown(query string) {
	w.t.Helper()
	driver := "sqlite"
	if w.downEngine == store.Postgres {
		driver = "pgx"
	}
	db, err := sql.Open(driver, w.downDSN)
	if err != nil {
		w.t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(w.ctx, query); err != nil {
		w.t.Fatal(err)
	}
}

// idTokenFor runs a real code flow at the upstream for another client and
// returns its ID token (audience other-app).
func (w *world) idTokenFor(b *browser, email string) string {
	w.t.Helper()
	ctx := gooidc.ClientContext(w.ctx, w.up.srv.Client())
	ctx = context.WithValue(ctx, oauth2.HTTPClient, w.up.srv.Client())
	p, err := gooidc.NewProvider(ctx, w.up.srv.URL)
	if err != nil {
		w.t.Fatal(err)
	}
	oc := &oauth2.Config{ClientID: "other-app", ClientSecret: downSecret, RedirectURL: otherCB, Endpoint: p.Endpoint(),
		Scopes: []string{gooidc.ScopeOpenID, "email"}}
	verifier := oauth2.GenerateVerifier()
	next, _ := url.Parse(oc.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier), gooidc.Nonce("n")))
	for range 10 {
		if strings.HasPrefix(next.String(), otherCB) {
			tok, err := oc.Exchange(ctx, next.Query().Get("code"), oauth2.VerifierOption(verifier))
			if err != nil {
				w.t.Fatal(err)
			}
			return tok.Extra("id_token").(string)
		}
		resp, body := b.get(next.String())
		if resp.StatusCode == http.StatusOK && strings.Contains(body, `name="password"`) {
			m := authRequestRE.FindStringSubmatch(body)
			resp, body = b.post(w.up.srv.URL+"/p/"+upSlug+"/login", w.up.srv.URL,
				url.Values{"email": {email}, "password": {password}, "authRequest": {m[1]}})
		}
		if resp.StatusCode/100 != 3 {
			w.t.Fatalf("other-app flow: status %d:\n%s", resp.StatusCode, body)
		}
		next = next.ResolveReference(location(w.t, resp))
	}
	w.t.Fatal("other-app flow did not finish")
	return ""
}

func TestSSOAgainstRealUpstream(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			if engine == store.Postgres {
				storetest.RequirePostgres(t)
			}
			w := newWorld(t, engine)
			ssoJourney(t, w)
			ssoAttacks(t, w)
		})
	}
}

// ssoJourney: an invitation accepted with SSO; a login through SSO that
// continues an app's pending OpenID request (tokens say amr fed); an
// explicit link from the account page; domain join with approval; lockout.
func ssoJourney(t *testing.T, w *world) {
	down := w.down.srv.URL

	t.Run("invitation accepted via SSO links the identity and consumes the invitation", func(t *testing.T) {
		token := w.invite(w.down, downSlug, "alice@clinic.example")
		b := w.browser()
		resp, page := b.get(down + "/p/" + downSlug + "/invite?token=" + url.QueryEscape(token))
		if resp.StatusCode != http.StatusOK || !strings.Contains(page, "Accept with Clinic Workspace") {
			t.Fatalf("invitation page %d does not offer SSO:\n%s", resp.StatusCode, page)
		}
		cb := w.upstreamLogin(b, down+link(t, page, "Accept with Clinic Workspace"), "alice@clinic.example")
		resp, body := b.get(cb.String())
		if resp.StatusCode != http.StatusSeeOther || location(t, resp).Path != "/p/"+downSlug+"/" {
			t.Fatalf("callback: %d %s", resp.StatusCode, body)
		}
		if got := w.signedInAs(b); got != "alice@clinic.example" {
			t.Fatalf("signed in as %q", got)
		}
		m := w.downMember("alice@clinic.example")
		if m.Status != store.StatusActive || m.PasswordHash != "" {
			t.Errorf("alice: status %s, password set %v", m.Status, m.PasswordHash != "")
		}
		upAlice, err := w.up.app.Store.MemberByEmail(w.ctx, w.practiceID(w.up, upSlug), "alice@clinic.example")
		if err != nil {
			t.Fatal(err)
		}
		link, err := w.down.app.Store.SSOIdentityBySubject(w.ctx, m.PracticeID, w.up.srv.URL, upAlice.ID)
		if err != nil || link.MemberID != m.ID || link.LinkedVia != sso.PurposeInvite {
			t.Fatalf("link = %+v, %v", link, err)
		}
		// The invitation is used up: the link and the SSO start both refuse it.
		if resp, _ := b.get(down + "/p/" + downSlug + "/invite?token=" + url.QueryEscape(token)); resp.StatusCode != http.StatusGone {
			t.Errorf("invitation page after acceptance: %d", resp.StatusCode)
		}
		// Replaying the accepted callback changes nothing.
		if resp, _ := b.get(cb.String()); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("replayed invitation callback: %d", resp.StatusCode)
		}
	})

	t.Run("SSO login continues the app's auth request and tokens say amr fed", func(t *testing.T) {
		ctx := gooidc.ClientContext(w.ctx, w.down.srv.Client())
		ctx = context.WithValue(ctx, oauth2.HTTPClient, w.down.srv.Client())
		rp, err := gooidc.NewProvider(ctx, down)
		if err != nil {
			t.Fatal(err)
		}
		oc := &oauth2.Config{ClientID: "ehr", ClientSecret: downSecret, RedirectURL: ehrCB, Endpoint: rp.Endpoint(),
			Scopes: []string{gooidc.ScopeOpenID, "email"}}
		verifier := oauth2.GenerateVerifier()
		b := w.browser()
		resp, _ := b.get(oc.AuthCodeURL("app-state", oauth2.S256ChallengeOption(verifier), gooidc.Nonce("app-nonce"),
			oauth2.SetAuthURLParam("practice", downSlug)))
		loginURL := location(t, resp)
		_, page := b.get(down + loginURL.RequestURI())
		start := down + link(t, page, "Sign in with Clinic Workspace")
		if !strings.Contains(start, "authRequest=") {
			t.Fatalf("SSO button does not carry the auth request: %s", start)
		}
		cb := w.upstreamLogin(b, start, "alice@clinic.example")
		resp, _ = b.get(cb.String())
		next := location(t, resp)
		for range 5 {
			if strings.HasPrefix(next.String(), ehrCB) {
				break
			}
			var body string
			resp, body = b.get(down + next.RequestURI())
			if resp.StatusCode/100 != 3 {
				t.Fatalf("continuing the auth request: %d %s", resp.StatusCode, body)
			}
			next = location(t, resp)
		}
		if next.Query().Get("state") != "app-state" || next.Query().Get("code") == "" {
			t.Fatalf("app redirect = %s", next)
		}
		tok, err := oc.Exchange(ctx, next.Query().Get("code"), oauth2.VerifierOption(verifier))
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
		if !slices.Equal(c.AMR, []string{"fed"}) || idt.Nonce != "app-nonce" {
			t.Fatalf("id token amr %v nonce %q", c.AMR, idt.Nonce)
		}
		// The email scope's claims come from userinfo (OpenID Connect Core 5.4).
		info, err := rp.UserInfo(ctx, oauth2.StaticTokenSource(tok))
		if err != nil {
			t.Fatal(err)
		}
		if info.Subject != idt.Subject || info.Email != "alice@clinic.example" {
			t.Fatalf("userinfo sub %q email %q (id token sub %q)", info.Subject, info.Email, idt.Subject)
		}
		if got := w.signedInAs(b); got != "alice@clinic.example" {
			t.Fatalf("signed in as %q", got)
		}
	})

	t.Run("carol links her work account from the account page, then logs in with it", func(t *testing.T) {
		b := w.browser()
		resp, _ := b.post(down+"/p/"+downSlug+"/login", down, url.Values{"email": {"carol@clinic.example"}, "password": {password}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("password login: %d", resp.StatusCode)
		}
		_, page := b.get(down + "/p/" + downSlug + "/sso")
		if !strings.Contains(page, "Link Clinic Workspace") {
			t.Fatalf("sso page:\n%s", page)
		}
		// A link needs the CSRF-protected form: a cross-site post is refused.
		if resp, _ := b.post(down+"/p/"+downSlug+"/sso/"+w.provider.ID+"/link", "https://evil.example", nil); resp.StatusCode != http.StatusForbidden {
			t.Errorf("cross-site link start: %d", resp.StatusCode)
		}
		resp, page = b.post(down+"/p/"+downSlug+"/sso/"+w.provider.ID+"/link", down, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("link start: %d %s", resp.StatusCode, page)
		}
		cb := w.upstreamLogin(b, link(t, page, ">Continue<"), "carolw@clinic.example")
		resp, body := b.get(cb.String())
		if resp.StatusCode != http.StatusSeeOther || location(t, resp).Query().Get("done") != "linked" {
			t.Fatalf("link callback: %d %s", resp.StatusCode, body)
		}
		if _, page := b.get(down + "/p/" + downSlug + "/sso"); !strings.Contains(page, "carolw@clinic.example") {
			t.Errorf("linked account not listed:\n%s", page)
		}
		// Fresh browser: Sign in with the work account reaches carol.
		b2 := w.browser()
		_, resp, body = w.signIn(b2, "carolw@clinic.example", "Sign in with Clinic Workspace")
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("login: %d %s", resp.StatusCode, body)
		}
		if got := w.signedInAs(b2); got != "carol@clinic.example" {
			t.Fatalf("signed in as %q", got)
		}
		if _, home := b2.get(down + "/p/" + downSlug + "/"); !strings.Contains(home, "single sign-on") {
			t.Error("account page does not say the session came from single sign-on")
		}
	})

	t.Run("an invitation is not taken by another email or an identity already linked", func(t *testing.T) {
		token := w.invite(w.down, downSlug, "dave@clinic.example")
		inviteURL := down + "/p/" + downSlug + "/invite?token=" + url.QueryEscape(token)
		// Without allowed domains the upstream email must be the invited one.
		b := w.browser()
		_, page := b.get(inviteURL)
		cb := w.upstreamLogin(b, down+link(t, page, "Accept with Strict Workspace"), "carolw@clinic.example")
		resp, body := b.get(cb.String())
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "another email address") || w.signedInAs(b) != "" {
			t.Fatalf("mismatched email: %d %s", resp.StatusCode, body)
		}
		// carolw is linked to carol already: accepting dave's invitation with
		// it is refused and rolls back, leaving the invitation usable.
		b = w.browser()
		_, page = b.get(inviteURL)
		cb = w.upstreamLogin(b, down+link(t, page, "Accept with Clinic Workspace"), "carolw@clinic.example")
		resp, body = b.get(cb.String())
		if resp.StatusCode != http.StatusConflict || w.signedInAs(b) != "" {
			t.Fatalf("already linked identity: %d %s", resp.StatusCode, body)
		}
		if m := w.downMember("dave@clinic.example"); m.Status != store.StatusInvited {
			t.Errorf("dave is %s after refused acceptances", m.Status)
		}
		if resp, _ := b.get(inviteURL); resp.StatusCode != http.StatusOK {
			t.Errorf("invitation unusable after refused acceptances: %d", resp.StatusCode)
		}
	})

	t.Run("domain join waits for approval, then logs in", func(t *testing.T) {
		b := w.browser()
		_, resp, body := w.signIn(b, "newhire@clinic.example", "Sign in with Join Clinic")
		if resp.StatusCode != http.StatusAccepted || !strings.Contains(body, "Request sent") {
			t.Fatalf("join: %d %s", resp.StatusCode, body)
		}
		if w.signedInAs(b) != "" {
			t.Fatal("a pending join request signed in")
		}
		reqs, err := w.down.app.SSO.JoinRequests(w.ctx, downSlug, account.Operator(), "pending")
		if err != nil || len(reqs) != 1 || reqs[0].Email != "newhire@clinic.example" {
			t.Fatalf("join requests = %+v, %v", reqs, err)
		}
		if _, err := w.down.app.SSO.DecideJoin(w.ctx, downSlug, account.Operator(), reqs[0].ID, true, account.Meta{}); err != nil {
			t.Fatal(err)
		}
		_, resp, body = w.signIn(w.browser(), "newhire@clinic.example", "Sign in with Join Clinic")
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("login after approval: %d %s", resp.StatusCode, body)
		}
		if m := w.downMember("newhire@clinic.example"); !slices.Contains(m.Roles, reqs[0].Role) {
			t.Errorf("new member roles %v", m.Roles)
		}
	})

	t.Run("unlinking stops the login", func(t *testing.T) {
		b := w.browser()
		if _, resp, _ := w.signIn(b, "carolw@clinic.example", "Sign in with Clinic Workspace"); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("login: %d", resp.StatusCode)
		}
		_, page := b.get(down + "/p/" + downSlug + "/sso")
		m := regexp.MustCompile(`action="(/p/` + downSlug + `/sso/linked/[^/"]+/unlink)"`).FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("no unlink form:\n%s", page)
		}
		if resp, _ := b.post(down+m[1], down, nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("unlink: %d", resp.StatusCode)
		}
		_, resp, body := w.signIn(w.browser(), "carolw@clinic.example", "Sign in with Clinic Workspace")
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "not linked") {
			t.Fatalf("login after unlink: %d", resp.StatusCode)
		}
		if len(w.audits("sso.unlink", "success")) != 1 {
			t.Error("unlink not audited")
		}
	})

	t.Run("a lock blocks SSO when lockout.blocks is all", func(t *testing.T) {
		m := w.downMember("alice@clinic.example")
		if err := w.down.app.Store.SetMemberStatus(w.ctx, m.ID, store.StatusLocked, time.Now()); err != nil {
			t.Fatal(err)
		}
		b := w.browser()
		_, resp, _ := w.signIn(b, "alice@clinic.example", "Sign in with Clinic Workspace")
		if resp.StatusCode != http.StatusForbidden || w.signedInAs(b) != "" {
			t.Fatalf("locked member via SSO: %d", resp.StatusCode)
		}
		if err := w.down.app.Store.SetMemberStatus(w.ctx, m.ID, store.StatusActive, time.Now()); err != nil {
			t.Fatal(err)
		}
	})
}

func ssoAttacks(t *testing.T, w *world) {
	down := w.down.srv.URL
	loginButton := "Sign in with Clinic Workspace"

	t.Run("start refusals", func(t *testing.T) {
		b := w.browser()
		base := down + "/p/" + downSlug + "/sso/"
		for _, tc := range []struct {
			path   string
			status int
		}{
			{w.provider.ID + "/start", http.StatusBadRequest},
			{w.provider.ID + "/start?purpose=link", http.StatusBadRequest},
			{"no-such-provider/start?purpose=login", http.StatusNotFound},
			{w.provider.ID + "/start?purpose=invite&token=forged", http.StatusGone},
			{strings.Repeat("x", 100) + "/start?purpose=login", http.StatusNotFound},
		} {
			if resp, body := b.get(base + tc.path); resp.StatusCode != tc.status {
				t.Errorf("%s: %d, want %d\n%s", tc.path, resp.StatusCode, tc.status, body)
			}
		}
		// Linking needs a signed-in member.
		if resp, _ := b.post(base+w.provider.ID+"/link", down, nil); resp.StatusCode != http.StatusSeeOther ||
			location(t, resp).Path != "/p/"+downSlug+"/login" {
			t.Errorf("link start signed out: %d", resp.StatusCode)
		}
	})

	t.Run("wrong state is refused and leaves the real flow usable", func(t *testing.T) {
		b := w.browser()
		_, page := b.get(down + "/p/" + downSlug + "/login")
		cb := w.upstreamLogin(b, down+link(t, page, loginButton), "alice@clinic.example")
		bad := *cb
		q := bad.Query()
		q.Set("state", q.Get("state")+"x")
		bad.RawQuery = q.Encode()
		if resp, _ := b.get(bad.String()); resp.StatusCode != http.StatusBadRequest || w.signedInAs(b) != "" {
			t.Fatalf("wrong state: %d", resp.StatusCode)
		}
		if w.lastFailureReason() != "state_invalid" {
			t.Errorf("audit reason %q", w.lastFailureReason())
		}
		if resp, body := b.get(cb.String()); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("real callback after a wrong one: %d %s", resp.StatusCode, body)
		}
	})

	t.Run("callback in another browser is refused", func(t *testing.T) {
		b := w.browser()
		_, page := b.get(down + "/p/" + downSlug + "/login")
		cb := w.upstreamLogin(b, down+link(t, page, loginButton), "alice@clinic.example")
		other := w.browser()
		if resp, _ := other.get(cb.String()); resp.StatusCode != http.StatusBadRequest || w.signedInAs(other) != "" {
			t.Fatalf("callback in another browser: %d", resp.StatusCode)
		}
	})

	t.Run("replayed callback and replayed code are refused", func(t *testing.T) {
		b := w.browser()
		cb, resp, _ := w.signIn(b, "alice@clinic.example", loginButton)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("first use: %d", resp.StatusCode)
		}
		// The same callback again: the flow was single use.
		if resp, _ := b.get(cb.String()); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("replayed callback: %d", resp.StatusCode)
		}
		// The old code with a new, valid state of this browser: the flow is
		// real, but the upstream refuses a code used before.
		b = w.browser()
		_, page := b.get(down + "/p/" + downSlug + "/login")
		fresh := w.upstreamLogin(b, down+link(t, page, loginButton), "alice@clinic.example")
		replay := *fresh
		q := replay.Query()
		q.Set("code", cb.Query().Get("code"))
		replay.RawQuery = q.Encode()
		resp, _ = b.get(replay.String())
		if resp.StatusCode != http.StatusBadGateway {
			t.Fatalf("replayed code: %d", resp.StatusCode)
		}
		if w.lastFailureReason() != "upstream_verification" {
			t.Errorf("audit reason %q", w.lastFailureReason())
		}
	})

	t.Run("ID token for another audience is refused", func(t *testing.T) {
		b := w.browser()
		foreign := w.idTokenFor(b, "alice@clinic.example")
		_, page := b.get(down + "/p/" + downSlug + "/login")
		cb := w.upstreamLogin(b, down+link(t, page, loginButton), "alice@clinic.example")
		w.tamper.arm(foreign)
		resp, _ := b.get(cb.String())
		if resp.StatusCode != http.StatusBadGateway || w.signedInAs(b) != "" {
			t.Fatalf("foreign-audience id token: %d", resp.StatusCode)
		}
	})

	t.Run("ID token with another flow's nonce is refused", func(t *testing.T) {
		b := w.browser()
		if _, resp, _ := w.signIn(b, "alice@clinic.example", loginButton); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("setup login: %d", resp.StatusCode)
		}
		old := w.tamper.last() // audience fd-down, valid, but for the previous flow
		b2 := w.browser()
		_, page := b2.get(down + "/p/" + downSlug + "/login")
		cb := w.upstreamLogin(b2, down+link(t, page, loginButton), "alice@clinic.example")
		w.tamper.arm(old)
		resp, _ := b2.get(cb.String())
		if resp.StatusCode != http.StatusBadGateway || w.signedInAs(b2) != "" {
			t.Fatalf("wrong nonce: %d", resp.StatusCode)
		}
	})

	t.Run("an email claimed by a new subject does not reach the member", func(t *testing.T) {
		// carol@clinic.example is a downstream member (linked to carolw); an
		// upstream account with that same email is a different subject.
		b := w.browser()
		_, resp, body := w.signIn(b, "carol@clinic.example", loginButton)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "not linked") ||
			!strings.Contains(body, "invitation") || !strings.Contains(body, "account page") {
			t.Fatalf("new subject with a member's email: %d %s", resp.StatusCode, body)
		}
		if w.signedInAs(b) != "" {
			t.Fatal("signed in by email")
		}
		if w.lastFailureReason() != "not_linked" {
			t.Errorf("audit reason %q", w.lastFailureReason())
		}
	})

	t.Run("a disallowed domain is refused", func(t *testing.T) {
		b := w.browser()
		_, resp, body := w.signIn(b, "eve@elsewhere.example", loginButton)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "email domains") || w.signedInAs(b) != "" {
			t.Fatalf("disallowed domain: %d %s", resp.StatusCode, body)
		}
	})

	t.Run("an expired start is refused", func(t *testing.T) {
		b := w.browser()
		_, page := b.get(down + "/p/" + downSlug + "/login")
		cb := w.upstreamLogin(b, down+link(t, page, loginButton), "alice@clinic.example")
		w.expireFlows()
		if resp, _ := b.get(cb.String()); resp.StatusCode != http.StatusBadRequest || w.signedInAs(b) != "" {
			t.Fatalf("expired flow: %d", resp.StatusCode)
		}
	})

	t.Run("cancelled at the upstream", func(t *testing.T) {
		b := w.browser()
		_, page := b.get(down + "/p/" + downSlug + "/login")
		cb := w.upstreamLogin(b, down+link(t, page, loginButton), "alice@clinic.example")
		q := cb.Query()
		q.Del("code")
		q.Set("error", "access_denied")
		cb.RawQuery = q.Encode()
		if resp, body := b.get(cb.String()); resp.StatusCode != http.StatusBadRequest || !bytes.Contains([]byte(body), []byte("cancelled")) {
			t.Fatalf("upstream error: %d", resp.StatusCode)
		}
	})
}
