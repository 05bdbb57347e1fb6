package adminapi_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/frontdeskhq/frontdesk/identity/app"
	"github.com/frontdeskhq/frontdesk/identity/app/apptest"
	"github.com/frontdeskhq/frontdesk/identity/config"
	"github.com/frontdeskhq/frontdesk/identity/store"
)

const (
	consoleSecret = apptest.ClientSecret
	consoleCB     = apptest.RedirectURI
	ownerPw       = apptest.Password
)

// harness is a real frontdesk (apptest: app.New with store, services,
// OpenID provider, HTTP server with the admin API) behind a TLS test
// server, with two practices: sunrise (owner, a member without roles, a
// scheduler) and moon; every admin API answer is validated against
// docs/openapi.yaml.
type harness struct {
	*apptest.Frontdesk
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
	f := apptest.New(t, apptest.Engine(engine))
	h := &harness{Frontdesk: f, t: t, srv: f.Server, app: f.App, rp: f.RP(), ctx: f.Ctx, ids: f.IDs, cfg: f.Config}
	h.sunrise = f.CreatePractice("sunrise", "owner@sunrise.example")
	f.CreatePractice("moon", "owner@moon.example")
	f.AddMember("sunrise", "nobody@sunrise.example", "Nora Nobody", nil)
	f.AddMember("sunrise", "clin@sunrise.example", "Cleo Clinician", []string{"scheduler"})

	var err error
	h.doc, err = openapi3.NewLoader().LoadFromFile("../../docs/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.doc.Validate(h.ctx); err != nil {
		t.Fatalf("docs/openapi.yaml is not a valid OpenAPI document: %v", err)
	}
	h.doc.Servers = openapi3.Servers{{URL: f.URL + "/api/v1"}}
	if h.router, err = gorillamux.NewRouter(h.doc); err != nil {
		t.Fatal(err)
	}
	return h
}

// addMember inserts an active member with a password and the given roles.
func (h *harness) addMember(slug, email, name string, roleKeys []string) {
	h.t.Helper()
	h.AddMember(slug, email, name, roleKeys)
}

// token runs the real authorization-code flow (PKCE) as email in practice
// slug for client and returns the access token.
func (h *harness) token(slug, email, client string) string {
	h.t.Helper()
	return h.Token(slug, email, client)
}

// consoleBrowser is a console user's browser (the kit's), with the
// lower-case do this package's tests were written with.
type consoleBrowser struct {
	*apptest.Browser
	t testing.TB
}

// browser opens a console user's browser with no cookies.
func (h *harness) browser() *consoleBrowser { return &consoleBrowser{h.Browser(), h.t} }

// do is apptest.Browser.Do.
func (b *consoleBrowser) do(method, path string, form url.Values, origin bool) (int, string, string) {
	b.t.Helper()
	return b.Do(method, path, form, origin)
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
