package rp

// goApp is the Go relying party: a practice app's back end that logs staff
// in with go-oidc and x/oauth2, the way docs/app-developers.md ("Tested
// relying parties") shows it. Its pages are those of the Node and Python
// relying parties: /login, /callback, /refresh, /logout, /logged-out.

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

type goApp struct {
	issuer     string
	base       string // this app's URL
	provider   *oidc.Provider
	verifier   *oidc.IDTokenVerifier
	oauth      oauth2.Config
	endSession string

	mu       sync.Mutex
	sessions map[string]*goSession // by the sid cookie
}

type goSession struct {
	state, nonce, verifier string
	token                  *oauth2.Token
	idToken                string         // raw, for id_token_hint
	claims                 map[string]any // the verified ID token's
}

func newGoApp(ctx context.Context, issuer, clientID, secret, base string) (*goApp, error) {
	provider, err := oidc.NewProvider(ctx, issuer) // discovery; checks the issuer
	if err != nil {
		return nil, err
	}
	var meta struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if err := provider.Claims(&meta); err != nil {
		return nil, err
	}
	return &goApp{issuer: issuer, base: base, provider: provider, endSession: meta.EndSession,
		verifier: provider.Verifier(&oidc.Config{ClientID: clientID}),
		oauth: oauth2.Config{ClientID: clientID, ClientSecret: secret, Endpoint: provider.Endpoint(),
			RedirectURL: base + "/callback",
			Scopes:      []string{oidc.ScopeOpenID, "email", "profile", oidc.ScopeOfflineAccess, "roles"}},
		sessions: map[string]*goSession{}}, nil
}

func (a *goApp) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := a.serve(w, r); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}

func (a *goApp) serve(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	var sid string
	if c, err := r.Cookie("sid"); err == nil {
		sid = c.Value
	}
	a.mu.Lock()
	s := a.sessions[sid]
	a.mu.Unlock()
	switch r.URL.Path {
	case "/login":
		s, sid = &goSession{state: rand.Text(), nonce: rand.Text(), verifier: oauth2.GenerateVerifier()}, rand.Text()
		a.mu.Lock()
		a.sessions[sid] = s
		a.mu.Unlock()
		http.SetCookie(w, &http.Cookie{Name: "sid", Value: sid, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
		http.Redirect(w, r, a.oauth.AuthCodeURL(s.state, oidc.Nonce(s.nonce), oauth2.S256ChallengeOption(s.verifier)), http.StatusFound)
		return nil
	case "/callback":
		q := r.URL.Query()
		if s == nil || q.Get("state") != s.state {
			return errors.New("unexpected state")
		}
		if q.Get("iss") != a.issuer {
			return errors.New("authorization response from another issuer (RFC 9207)")
		}
		tok, err := a.oauth.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(s.verifier))
		if err != nil {
			return err
		}
		if err := a.keep(ctx, s, tok, s.nonce); err != nil {
			return err
		}
	case "/refresh":
		if s == nil || s.token == nil {
			return errors.New("not signed in")
		}
		// frontdesk rotates refresh tokens: keep the new one every time.
		tok, err := a.oauth.TokenSource(ctx, &oauth2.Token{RefreshToken: s.token.RefreshToken}).Token()
		if err != nil {
			return err
		}
		if err := a.keep(ctx, s, tok, ""); err != nil {
			return err
		}
	case "/logout":
		if s == nil || s.token == nil {
			return errors.New("not signed in")
		}
		a.mu.Lock()
		delete(a.sessions, sid)
		a.mu.Unlock()
		http.Redirect(w, r, a.endSession+"?"+url.Values{"id_token_hint": {s.idToken},
			"post_logout_redirect_uri": {a.base + "/logged-out"}}.Encode(), http.StatusFound)
		return nil
	case "/logged-out":
		_, err := fmt.Fprintln(w, "logged out")
		return err
	default:
		http.NotFound(w, r)
		return nil
	}
	// /callback and /refresh: say what the app got.
	info, err := a.provider.UserInfo(ctx, oauth2.StaticTokenSource(s.token))
	if err != nil {
		return err
	}
	var userinfo map[string]any
	if err := info.Claims(&userinfo); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(w).Encode(report{IDToken: s.claims, UserInfo: userinfo,
		AccessToken: s.token.AccessToken, RefreshToken: s.token.RefreshToken})
}

// keep verifies the ID token in tok, if there is one (a refresh need not
// return one), and keeps the tokens in s. nonce "" skips the nonce check.
func (a *goApp) keep(ctx context.Context, s *goSession, tok *oauth2.Token, nonce string) error {
	if raw, ok := tok.Extra("id_token").(string); ok {
		idt, err := a.verifier.Verify(ctx, raw) // signature, iss, aud, exp
		if err != nil {
			return err
		}
		if nonce != "" && idt.Nonce != nonce {
			return errors.New("ID token nonce mismatch")
		}
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil && idt.AccessTokenHash != "" {
			return err
		}
		s.claims = map[string]any{}
		if err := idt.Claims(&s.claims); err != nil {
			return err
		}
		s.idToken = raw
	} else if s.idToken == "" {
		return errors.New("no ID token")
	}
	s.token = tok
	return nil
}
