// Command practice-demo is a small practice app that delegates login to
// frontdesk (authorization code + PKCE, go-oidc + x/oauth2) and guards its
// pages by permission with identity/enforce. It is documentation that runs:
//
//	practice-demo --issuer http://localhost:8080 --client-secret S --practice demo
//
// Register it in frontdesk's configuration:
//
//	clients:
//	  - id: "practice-demo"
//	    secret: "S"
//	    redirect_uris: ["http://localhost:9090/callback"]
//	    post_logout_redirect_uris: ["http://localhost:9090/"]
//	    backchannel_logout_uri: "http://localhost:9090/backchannel-logout"
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/frontdeskhq/frontdesk/identity/enforce"
)

// routes are the demo's guarded pages and the permission each needs.
var routes = []struct{ path, title, permission string }{
	{"/clients", "Clients", "clients.view:own"},
	{"/notes", "Clinical notes", "clinical_notes.view:own"},
	{"/billing", "Billing", "billing.view"},
	{"/schedule", "Schedule", "schedule.view:own"},
}

const cookieName = "practice_demo"

// pending is a login in flight; session a signed-in browser.
type pending struct{ state, verifier, nonce string }

type session struct {
	accessToken string
	idToken     string
	sid         string
	name        string
	amr         []string // how the person logged in at frontdesk (ID token's amr)
}

type app struct {
	cfg      oauth2.Config
	provider *oidc.Provider
	verifier *enforce.Verifier
	issuer   string
	practice string
	public   string
	hc       *http.Client

	mu       sync.Mutex
	pendings map[string]pending
	sessions map[string]*session
}

func main() {
	issuer := flag.String("issuer", "http://localhost:8080", "frontdesk's issuer (server.public_url)")
	clientID := flag.String("client-id", "practice-demo", "client_id registered in frontdesk")
	secret := flag.String("client-secret", os.Getenv("PRACTICE_DEMO_SECRET"), "client secret (or PRACTICE_DEMO_SECRET)")
	practice := flag.String("practice", "demo", "practice slug to log in to")
	listen := flag.String("listen", "localhost:9090", "address to listen on")
	public := flag.String("public-url", "http://localhost:9090", "this app's own URL")
	flag.Parse()
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(context.Background(), logger, *issuer, *clientID, *secret, *practice, *listen, *public); err != nil {
		logger.Error("practice-demo stopped", "err", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, logger *slog.Logger, issuer, clientID, secret, practice, listen, public string) error {
	a, err := newApp(ctx, issuer, clientID, secret, practice, public, http.DefaultClient)
	if err != nil {
		return err
	}
	logger.Info("practice-demo listening", "url", public)
	srv := &http.Server{Addr: listen, Handler: a.routes(), ReadHeaderTimeout: 5 * time.Second}
	return srv.ListenAndServe()
}

func newApp(ctx context.Context, issuer, clientID, secret, practice, public string, hc *http.Client) (*app, error) {
	provider, err := oidc.NewProvider(oidc.ClientContext(ctx, hc), issuer)
	if err != nil {
		return nil, fmt.Errorf("discovery at %s: %w", issuer, err)
	}
	v, err := enforce.New(enforce.Config{Issuer: issuer, Audience: clientID, Practice: practice, HTTPClient: hc})
	if err != nil {
		return nil, err
	}
	return &app{
		cfg: oauth2.Config{ClientID: clientID, ClientSecret: secret, RedirectURL: public + "/callback",
			Endpoint: provider.Endpoint(), Scopes: []string{oidc.ScopeOpenID, "profile", "email"}},
		provider: provider, verifier: v, issuer: issuer, practice: practice, public: public, hc: hc,
		pendings: map[string]pending{}, sessions: map[string]*session{},
	}, nil
}

func (a *app) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", a.home)
	mux.HandleFunc("GET /login", a.login)
	mux.HandleFunc("GET /callback", a.callback)
	mux.HandleFunc("GET /logout", a.logout)
	mux.HandleFunc("POST /backchannel-logout", a.backchannelLogout)
	for _, r := range routes {
		mux.Handle("GET "+r.path, a.guard(r.permission, r.title))
	}
	return mux
}

func random() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (a *app) session(r *http.Request) (*session, string) {
	c, err := r.Cookie(cookieName)
	if err != nil {
		return nil, ""
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.sessions[c.Value], c.Value
}

var page = template.Must(template.New("page").Parse(`<!doctype html><title>Practice demo</title>
<h1>{{.Title}}</h1><p>{{.Message}}</p>
<ul>{{range .Links}}<li><a href="{{.Path}}">{{.Title}}</a> (needs {{.Permission}})</li>{{end}}</ul>
<p><a href="/login">Log in</a> · <a href="/logout">Log out</a></p>`))

type linkView struct{ Path, Title, Permission string }

func (a *app) render(w http.ResponseWriter, status int, title, msg string) {
	var links []linkView
	for _, r := range routes {
		links = append(links, linkView{r.path, r.title, r.permission})
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_ = page.Execute(w, map[string]any{"Title": title, "Message": msg, "Links": links})
}

func (a *app) home(w http.ResponseWriter, r *http.Request) {
	s, _ := a.session(r)
	if s == nil {
		a.render(w, http.StatusOK, "Practice demo", "You are not logged in.")
		return
	}
	msg := "Logged in as " + s.name + "."
	if len(s.amr) > 0 {
		msg += " Signed in with: " + strings.Join(s.amr, ", ") + "."
	}
	a.render(w, http.StatusOK, "Practice demo", msg)
}

// login starts the code flow with PKCE, a nonce and the practice.
func (a *app) login(w http.ResponseWriter, r *http.Request) {
	p := pending{state: random(), verifier: oauth2.GenerateVerifier(), nonce: random()}
	key := random()
	a.mu.Lock()
	a.pendings[key] = p
	a.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: cookieName + "_login", Value: key, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteLaxMode, MaxAge: 600})
	http.Redirect(w, r, a.cfg.AuthCodeURL(p.state, oauth2.S256ChallengeOption(p.verifier), oidc.Nonce(p.nonce),
		oauth2.SetAuthURLParam("practice", a.practice)), http.StatusFound)
}

// callback checks state and iss, exchanges the code and verifies the ID token.
func (a *app) callback(w http.ResponseWriter, r *http.Request) {
	c, err := r.Cookie(cookieName + "_login")
	if err != nil {
		a.render(w, http.StatusBadRequest, "Login failed", "Start the login again.")
		return
	}
	a.mu.Lock()
	p, ok := a.pendings[c.Value]
	delete(a.pendings, c.Value)
	a.mu.Unlock()
	q := r.URL.Query()
	if !ok || q.Get("state") != p.state || q.Get("iss") != a.issuer {
		a.render(w, http.StatusBadRequest, "Login failed", "The login response did not match; start again.")
		return
	}
	if e := q.Get("error"); e != "" {
		a.render(w, http.StatusForbidden, "Login failed", "frontdesk said: "+e+" "+q.Get("error_description"))
		return
	}
	ctx := context.WithValue(r.Context(), oauth2.HTTPClient, a.hc)
	tok, err := a.cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(p.verifier))
	if err != nil {
		a.render(w, http.StatusBadGateway, "Login failed", "The code could not be exchanged.")
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := a.provider.Verifier(&oidc.Config{ClientID: a.cfg.ClientID}).Verify(ctx, raw)
	if err != nil || idt.Nonce != p.nonce {
		a.render(w, http.StatusBadGateway, "Login failed", "The ID token is not valid.")
		return
	}
	var claims struct {
		Name string   `json:"name"`
		SID  string   `json:"sid"`
		AMR  []string `json:"amr"`
	}
	_ = idt.Claims(&claims)
	// The name is a profile claim: frontdesk answers it at userinfo.
	if ui, err := a.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil {
		var profile struct {
			Name string `json:"name"`
		}
		if ui.Claims(&profile) == nil {
			claims.Name = profile.Name
		}
	}
	key := random()
	a.mu.Lock()
	a.sessions[key] = &session{accessToken: tok.AccessToken, idToken: raw, sid: claims.SID, name: claims.Name, amr: claims.AMR}
	a.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: key, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// guard serves a page only to a session whose access token allows permission.
func (a *app) guard(permission, title string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := a.session(r)
		if s == nil {
			http.Redirect(w, r, "/login", http.StatusFound)
			return
		}
		claims, err := a.verifier.Verify(r.Context(), s.accessToken)
		if errors.Is(err, enforce.ErrInvalidToken) {
			http.Redirect(w, r, "/login", http.StatusFound) // expired: log in again (frontdesk remembers the session)
			return
		}
		if err != nil {
			a.render(w, http.StatusServiceUnavailable, title, "frontdesk's keys are unavailable; try again.")
			return
		}
		if !claims.Allowed(permission) {
			a.render(w, http.StatusForbidden, title, "Your role in "+claims.Practice+" does not allow this page ("+permission+").")
			return
		}
		a.render(w, http.StatusOK, title, "Welcome, "+s.name+": your role allows this page.")
	})
}

// logout ends the local session and frontdesk's (RP-initiated logout).
func (a *app) logout(w http.ResponseWriter, r *http.Request) {
	s, key := a.session(r)
	if s == nil {
		http.Redirect(w, r, "/", http.StatusFound)
		return
	}
	a.mu.Lock()
	delete(a.sessions, key)
	a.mu.Unlock()
	var end struct {
		EndSession string `json:"end_session_endpoint"`
	}
	_ = a.provider.Claims(&end)
	q := url.Values{"id_token_hint": {s.idToken}, "post_logout_redirect_uri": {a.public + "/"}}
	http.Redirect(w, r, end.EndSession+"?"+q.Encode(), http.StatusFound)
}

// backchannelLogout ends the local sessions of a frontdesk session that ended
// (OpenID Connect Back-Channel Logout): the logout token is verified like an
// ID token (issuer, audience, signature, expiry) and must carry the
// back-channel event and no nonce.
func (a *app) backchannelLogout(w http.ResponseWriter, r *http.Request) {
	raw := r.PostFormValue("logout_token")
	tok, err := a.provider.Verifier(&oidc.Config{ClientID: a.cfg.ClientID}).Verify(r.Context(), raw)
	var claims struct {
		SID    string         `json:"sid"`
		Nonce  *string        `json:"nonce"`
		Events map[string]any `json:"events"`
	}
	if err == nil {
		err = tok.Claims(&claims)
	}
	if err != nil || claims.Nonce != nil || claims.SID == "" ||
		claims.Events["http://schemas.openid.net/event/backchannel-logout"] == nil {
		http.Error(w, "invalid logout token", http.StatusBadRequest)
		return
	}
	a.mu.Lock()
	for k, s := range a.sessions {
		if s.sid == claims.SID {
			delete(a.sessions, k)
		}
	}
	a.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}
