package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// The end-to-end tests act as an app and its user's browser with the HTTP
// client of the load tool's workers. The load tool is its own command now
// (cmd/frontdesk-bench, not shipped in this binary), so this file keeps the
// part of its worker the tests use: the code flow through the login form,
// the token endpoint, and plain GET and form POST. Keep it in step with
// cmd/frontdesk-bench/bench.go.

// benchOptions is the app the worker acts as and the member it logs in.
type benchOptions struct {
	target                           string
	clientID, clientSecret, redirect string
	password, scopes                 string
}

// benchWorker is one app-and-browser client (its own cookie jar).
type benchWorker struct {
	o  *benchOptions
	hc *http.Client
	// practice and email of the worker's account.
	practice, email string
}

type benchTokens struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
}

func (w *benchWorker) token(ctx context.Context, form url.Values) (int, benchTokens, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.base()+"/oauth2/token", strings.NewReader(form.Encode()))
	if err != nil {
		return 0, benchTokens{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(w.o.clientID), url.QueryEscape(w.o.clientSecret))
	resp, err := w.hc.Do(req)
	if err != nil {
		return 0, benchTokens{}, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return tokenAnswer(resp.StatusCode, body)
}

// tokenAnswer reads a token endpoint's answer.
func tokenAnswer(status int, body []byte) (int, benchTokens, error) {
	var tok benchTokens
	if status != http.StatusOK {
		return status, tok, fmt.Errorf("token endpoint: status %d: %.200s", status, body)
	}
	if err := json.Unmarshal(body, &tok); err != nil || tok.AccessToken == "" {
		return status, tok, fmt.Errorf("token endpoint: unreadable answer: %v", err)
	}
	return status, tok, nil
}

func (w *benchWorker) get(ctx context.Context, path string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, w.abs(path), nil)
	if err != nil {
		return 0, "", err
	}
	return w.do(req)
}

// post sends a form the way a browser does: same-origin Origin header.
func (w *benchWorker) post(ctx context.Context, path string, form url.Values, origin bool) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.abs(path), strings.NewReader(form.Encode()))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if origin {
		req.Header.Set("Origin", w.base())
	}
	return w.do(req)
}

// do sends req and returns the status and, for a redirect, its Location,
// else the body.
func (w *benchWorker) do(req *http.Request) (int, string, error) {
	resp, err := w.hc.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if loc := resp.Header.Get("Location"); resp.StatusCode/100 == 3 {
		return resp.StatusCode, loc, nil
	}
	return resp.StatusCode, string(body), nil
}

func (w *benchWorker) base() string { return w.o.target }

func (w *benchWorker) abs(p string) string {
	if strings.HasPrefix(p, "/") {
		return w.base() + p
	}
	return p
}

var benchHidden = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)"`)

// hiddenFields are a page's hidden form inputs, unescaped.
func hiddenFields(page string) url.Values {
	form := url.Values{}
	un := strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">", "&#34;", `"`, "&#39;", "'")
	for _, m := range benchHidden.FindAllStringSubmatch(page, -1) {
		form.Set(m[1], un.Replace(m[2]))
	}
	return form
}

func randomString() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// login runs the whole authorization-code flow as a browser would: authorize
// (PKCE S256, state, nonce), the practice's HTML login form with the
// password, the redirect back with the code, and the code exchange.
func (w *benchWorker) login(ctx context.Context) (benchTokens, error) {
	verifier, state := randomString(), randomString()
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"client_id": {w.o.clientID}, "redirect_uri": {w.o.redirect}, "response_type": {"code"},
		"scope": {w.o.scopes}, "state": {state}, "nonce": {randomString()}, "practice": {w.practice},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	st, body, err := w.get(ctx, "/oauth2/authorize?"+q.Encode())
	loginPath := "/p/" + w.practice + "/login"
	for range 8 {
		if err != nil {
			return benchTokens{}, err
		}
		if st/100 != 3 {
			if st == http.StatusOK && strings.Contains(body, `name="password"`) {
				form := hiddenFields(body)
				form.Set("email", w.email)
				form.Set("password", w.o.password)
				st, body, err = w.post(ctx, loginPath, form, true)
				if err == nil && st/100 != 3 {
					return benchTokens{}, fmt.Errorf("login form answered %d (wrong email/password, locked, or overloaded)", st)
				}
				continue
			}
			return benchTokens{}, fmt.Errorf("code flow stopped at status %d", st)
		}
		loc, perr := url.Parse(body)
		if perr != nil {
			return benchTokens{}, perr
		}
		if !loc.IsAbs() {
			body = w.base() + loc.RequestURI()
		}
		if strings.HasPrefix(body, w.o.redirect) {
			rq := loc.Query()
			if rq.Get("state") != state || rq.Get("code") == "" {
				return benchTokens{}, fmt.Errorf("authorization response without code: %s", rq.Get("error"))
			}
			st, tok, err := w.token(ctx, url.Values{"grant_type": {"authorization_code"}, "code": {rq.Get("code")},
				"redirect_uri": {w.o.redirect}, "code_verifier": {verifier}})
			if err != nil {
				return benchTokens{}, fmt.Errorf("code exchange (status %d): %w", st, err)
			}
			return tok, nil
		}
		st, body, err = w.get(ctx, body)
	}
	return benchTokens{}, errors.New("code flow: too many redirects")
}
