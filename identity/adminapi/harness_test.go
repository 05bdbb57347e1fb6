package adminapi_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"golang.org/x/oauth2"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/app"
	"github.com/frontdeskhq/frontdesk/identity/config"
	"github.com/frontdeskhq/frontdesk/identity/password"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
)

const (
	consoleSecret = "console-secret-0123456789abcdef"
	consoleCB     = "https://console.example/cb"
	ownerPw       = "seven lanterns over a quiet harbour"
	testMasterKey = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
)

// lateHandler lets the TLS test server start (its URL is the issuer) before
// the app that needs the URL exists.
type lateHandler struct {
	mu sync.Mutex
	h  http.Handler
}

func (l *lateHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	l.mu.Lock()
	h := l.h
	l.mu.Unlock()
	h.ServeHTTP(w, r)
}

// harness is a real frontdesk (app.New: store, services, OpenID provider,
// HTTP server with the admin API) behind a TLS test server, with two
// practices: sunrise (owner, a member without roles, a scheduler) and moon.
type harness struct {
	t       testing.TB
	srv     *httptest.Server
	app     *app.App
	rp      *gooidc.Provider
	ctx     context.Context
	doc     *openapi3.T
	router  routers.Router
	ids     map[string]string // email -> member id
	sunrise store.Practice
	cfg     *config.Config
}

func newHarness(t testing.TB, engine store.Engine) *harness {
	t.Helper()
	late := &lateHandler{}
	srv := httptest.NewTLSServer(late)
	t.Cleanup(srv.Close)
	cfg := config.Default()
	cfg.Data.Dir = t.TempDir()
	if engine == store.Postgres {
		_, dsn := storetest.DSN(t, engine)
		cfg.Database.URL = dsn
	}
	cfg.Server.PublicURL = srv.URL
	cfg.OIDC.MasterKey = testMasterKey
	cfg.Log.Level = "error"
	cfg.Clients = []config.Client{
		{ID: "console", Secret: consoleSecret, RedirectURIs: []string{consoleCB}, Scopes: []string{"openid", "offline_access"}},
		{ID: "ehr", Secret: consoleSecret, RedirectURIs: []string{consoleCB}, Scopes: []string{"openid"}},
	}
	cfg.AdminAPI.Clients = []string{"console"}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	a, err := app.New(ctx, cfg, app.NewLogger(cfg.Log, io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	late.mu.Lock()
	late.h = a.Handler
	late.mu.Unlock()

	h := &harness{t: t, srv: srv, app: a, ctx: gooidc.ClientContext(ctx, srv.Client()), ids: map[string]string{}, cfg: cfg}
	h.rp, err = gooidc.NewProvider(h.ctx, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	h.createPractice("sunrise", "owner@sunrise.example")
	h.createPractice("moon", "owner@moon.example")
	if h.sunrise, err = a.Store.PracticeBySlug(ctx, "sunrise"); err != nil {
		t.Fatal(err)
	}
	h.addMember("sunrise", "nobody@sunrise.example", "Nora Nobody", nil)
	h.addMember("sunrise", "clin@sunrise.example", "Cleo Clinician", []string{"scheduler"})

	h.doc, err = openapi3.NewLoader().LoadFromFile("../../docs/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.doc.Validate(ctx); err != nil {
		t.Fatalf("docs/openapi.yaml is not a valid OpenAPI document: %v", err)
	}
	h.doc.Servers = openapi3.Servers{{URL: srv.URL + "/api/v1"}}
	if h.router, err = gorillamux.NewRouter(h.doc); err != nil {
		t.Fatal(err)
	}
	return h
}

func (h *harness) createPractice(slug, owner string) {
	h.t.Helper()
	created, err := h.app.Accounts.CreatePractice(h.ctx, account.NewPractice{Slug: slug, Name: "Practice " + slug,
		OwnerEmail: owner, OwnerName: "Owner " + slug}, account.Meta{})
	if err != nil {
		h.t.Fatal(err)
	}
	u, _ := url.Parse(created.SetupURL)
	if _, _, err := h.app.Accounts.CompleteSetup(h.ctx, slug, u.Query().Get("token"), ownerPw, ownerPw, account.Meta{}); err != nil {
		h.t.Fatal(err)
	}
	h.ids[owner] = created.OwnerID
}

// addMember inserts an active member with a password and the given roles.
func (h *harness) addMember(slug, email, name string, roleKeys []string) {
	h.t.Helper()
	p, err := h.app.Store.PracticeBySlug(h.ctx, slug)
	if err != nil {
		h.t.Fatal(err)
	}
	hash, err := password.NewHasher(password.DefaultParams(), 1).Hash(h.ctx, ownerPw)
	if err != nil {
		h.t.Fatal(err)
	}
	id := "m-" + strings.Split(email, "@")[0] + "-" + slug
	now := time.Now()
	if err := h.app.Store.CreateMember(h.ctx, store.Member{ID: id, PracticeID: p.ID, Email: email, DisplayName: name,
		Status: store.StatusActive, Roles: roleKeys, PasswordHash: hash, PasswordChangedAt: now, CreatedAt: now}); err != nil {
		h.t.Fatal(err)
	}
	h.ids[email] = id
}

var hiddenAuthRequest = regexp.MustCompile(`name="authRequest" value="([^"]+)"`)

// token runs the real authorization-code flow (PKCE) as email in practice
// slug for client and returns the access token.
func (h *harness) token(slug, email, client string) string {
	h.t.Helper()
	jar, _ := cookiejar.New(nil)
	c := *h.srv.Client()
	c.Jar = jar
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	cfg := &oauth2.Config{ClientID: client, ClientSecret: consoleSecret, RedirectURL: consoleCB, Endpoint: h.rp.Endpoint(),
		Scopes: []string{gooidc.ScopeOpenID}}
	verifier := oauth2.GenerateVerifier()
	next := cfg.AuthCodeURL("st4te", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("practice", slug))
	for range 8 {
		resp, err := c.Get(next)
		if err != nil {
			h.t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if m := hiddenAuthRequest.FindSubmatch(body); resp.StatusCode == http.StatusOK && m != nil {
			form := url.Values{"email": {email}, "password": {ownerPw}, "authRequest": {string(m[1])}}
			req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/p/"+slug+"/login", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", h.srv.URL)
			if resp, err = c.Do(req); err != nil {
				h.t.Fatal(err)
			}
			_ = resp.Body.Close()
		}
		if resp.StatusCode/100 != 3 {
			h.t.Fatalf("login flow for %s stopped at %d: %s", email, resp.StatusCode, body)
		}
		loc, err := resp.Location()
		if err != nil {
			h.t.Fatal(err)
		}
		if strings.HasPrefix(loc.String(), consoleCB) {
			tok, err := cfg.Exchange(h.ctx, loc.Query().Get("code"), oauth2.VerifierOption(verifier))
			if err != nil {
				h.t.Fatalf("exchange: %v", err)
			}
			return tok.AccessToken
		}
		next = loc.String()
	}
	h.t.Fatal("too many redirects in the login flow")
	return ""
}

type apiResponse struct {
	status int
	header http.Header
	body   []byte
}

// call makes an API request and validates the response against the OpenAPI
// document (every status, including errors).
func (h *harness) call(method, path, token string, body any, hdr map[string]string) apiResponse {
	h.t.Helper()
	var rd io.Reader
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	case []byte:
		raw = b
	}
	if raw != nil {
		rd = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, h.srv.URL+"/api/v1"+path, rd)
	if raw != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	out, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	r := apiResponse{status: resp.StatusCode, header: resp.Header, body: out}
	h.validate(req, raw, r)
	return r
}

func (h *harness) validate(req *http.Request, reqBody []byte, r apiResponse) {
	h.t.Helper()
	route, params, err := h.router.FindRoute(req)
	if err != nil && r.status == http.StatusNotFound && strings.Contains(req.URL.Path, "/nothing-here") {
		return // the deliberately unknown endpoint
	}
	if err != nil {
		h.t.Errorf("%s %s is not in docs/openapi.yaml: %v", req.Method, req.URL.Path, err)
		return
	}
	if reqBody != nil {
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 r.status,
		Header:                 r.header,
		Body:                   io.NopCloser(bytes.NewReader(r.body)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true},
	}
	if ct := r.header.Get("Content-Type"); strings.HasPrefix(ct, "text/csv") || strings.HasPrefix(ct, "application/jsonl") {
		in.Options.ExcludeResponseBody = true
	}
	if err := openapi3filter.ValidateResponse(h.ctx, in); err != nil {
		h.t.Errorf("%s %s → %d does not match docs/openapi.yaml: %v\n%s", req.Method, req.URL.Path, r.status, err, r.body)
	}
}
