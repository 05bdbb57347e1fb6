// Package benchclient is the HTTP client of frontdesk-bench's workers: an
// app and its user's browser in one (a cookie jar, redirects not followed),
// with the authorization-code flow through the practice's login form, the
// token endpoint, and plain GET and same-origin form POST. frontdesk-bench
// drives load with it; cmd/frontdesk's end-to-end tests act as an app with
// the same client instead of a copy of it.
package benchclient

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

// Options are the app a client acts as and where it finds frontdesk.
type Options struct {
	// Target is frontdesk's base URL (the first replica's); Targets all of
	// them when several replicas share one public URL, Issuer.
	Target  string
	Targets []string
	Issuer  string
	// ClientID, ClientSecret and Redirect are the registered app's.
	ClientID, ClientSecret, Redirect string
	// Password is the member's; Scopes what Login asks for (space-separated).
	Password, Scopes string
}

// TokenPoster sends an encoded form to the token endpoint on a connection
// of its own and returns the status and body.
type TokenPoster interface {
	Post(ctx context.Context, form string) (int, []byte, error)
}

// Client is one app-and-browser client.
type Client struct {
	Opts *Options
	// HTTP is the browser: its own cookie jar, redirects not followed.
	HTTP *http.Client
	// TokenConn, when set, carries Token's requests instead of HTTP.
	TokenConn TokenPoster
	// Practice and Email are the member Login signs in as.
	Practice, Email string
	// Target is this client's replica; empty is Opts.Target.
	Target string
}

// Tokens are a token endpoint's answer.
type Tokens struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
}

// Token posts form to the token endpoint as the app (HTTP Basic).
func (w *Client) Token(ctx context.Context, form url.Values) (int, Tokens, error) {
	if w.TokenConn != nil {
		st, body, err := w.TokenConn.Post(ctx, form.Encode())
		if err != nil {
			return st, Tokens{}, err
		}
		return TokenAnswer(st, body)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.Base()+"/oauth2/token", strings.NewReader(form.Encode()))
	if err != nil {
		return 0, Tokens{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(w.Opts.ClientID), url.QueryEscape(w.Opts.ClientSecret))
	resp, err := w.HTTP.Do(req)
	if err != nil {
		return 0, Tokens{}, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return TokenAnswer(resp.StatusCode, body)
}

// TokenAnswer reads a token endpoint's answer.
func TokenAnswer(status int, body []byte) (int, Tokens, error) {
	var tok Tokens
	if status != http.StatusOK {
		return status, tok, fmt.Errorf("token endpoint: status %d: %.200s", status, body)
	}
	if err := json.Unmarshal(body, &tok); err != nil || tok.AccessToken == "" {
		return status, tok, fmt.Errorf("token endpoint: unreadable answer: %v", err)
	}
	return status, tok, nil
}

// Get fetches path (below Base, or an absolute URL) and returns the status
// and the body, or the Location of a redirect.
func (w *Client) Get(ctx context.Context, path string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, w.Abs(path), nil)
	if err != nil {
		return 0, "", err
	}
	return w.Do(req)
}

// Post sends a form the way a browser does: same-origin Origin header.
func (w *Client) Post(ctx context.Context, path string, form url.Values, origin bool) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.Abs(path), strings.NewReader(form.Encode()))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if origin {
		req.Header.Set("Origin", w.Base())
	}
	return w.Do(req)
}

// Do sends req and returns the status and the body, or the Location of a
// redirect.
func (w *Client) Do(req *http.Request) (int, string, error) {
	resp, err := w.HTTP.Do(req)
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

// Base is the client's replica: its own target, else the first --target.
func (w *Client) Base() string {
	if w.Target != "" {
		return w.Target
	}
	return w.Opts.Target
}

// Abs is p below Base when p is a path.
func (w *Client) Abs(p string) string {
	if strings.HasPrefix(p, "/") {
		return w.Base() + p
	}
	return p
}

var formAction = regexp.MustCompile(`<form method="post" action="([^"]+)"`)

var hidden = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)"`)

// HiddenFields are a page's hidden form inputs, unescaped.
func HiddenFields(page string) url.Values {
	form := url.Values{}
	un := strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">", "&#34;", `"`, "&#39;", "'")
	for _, m := range hidden.FindAllStringSubmatch(page, -1) {
		form.Set(m[1], un.Replace(m[2]))
	}
	return form
}

// RandomString is 32 random bytes, base64url: a PKCE verifier, a state, a
// nonce.
func RandomString() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Login runs the whole authorization-code flow as a browser would: authorize
// (PKCE S256, state, nonce), the practice's HTML login form with the
// password, the redirect back with the code, and the code exchange.
func (w *Client) Login(ctx context.Context) (Tokens, error) {
	verifier, state := RandomString(), RandomString()
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"client_id": {w.Opts.ClientID}, "redirect_uri": {w.Opts.Redirect}, "response_type": {"code"},
		"scope": {w.Opts.Scopes}, "state": {state}, "nonce": {RandomString()}, "practice": {w.Practice},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	st, body, err := w.Get(ctx, "/oauth2/authorize?"+q.Encode())
	loginPath := "/p/" + w.Practice + "/login"
	for range 8 {
		if err != nil {
			return Tokens{}, err
		}
		if st/100 != 3 {
			if st == http.StatusOK && strings.Contains(body, `name="password"`) {
				form := HiddenFields(body)
				form.Set("email", w.Email)
				form.Set("password", w.Opts.Password)
				path := loginPath
				if m := formAction.FindStringSubmatch(body); m != nil && strings.HasPrefix(m[1], "/") {
					// The form's own action: a peer provider's login
					// interaction lives elsewhere (scripts/bench-peers).
					path = m[1]
				}
				st, body, err = w.Post(ctx, path, form, true)
				if err == nil && st/100 != 3 {
					return Tokens{}, fmt.Errorf("login form answered %d (wrong --email/--password, locked, or overloaded)", st)
				}
				continue
			}
			return Tokens{}, fmt.Errorf("code flow stopped at status %d", st)
		}
		loc, perr := url.Parse(body)
		if perr != nil {
			return Tokens{}, perr
		}
		if !loc.IsAbs() {
			loc = (&url.URL{Scheme: "http", Host: ""}).ResolveReference(loc)
			body = w.Base() + loc.RequestURI()
		} else if iss, _ := url.Parse(w.Opts.Issuer); len(w.Opts.Targets) > 1 && iss != nil && loc.Host == iss.Host {
			// Replicas share one public URL (a load balancer's); the worker
			// stays on its replica.
			body = w.Base() + loc.RequestURI()
		}
		if strings.HasPrefix(body, w.Opts.Redirect) {
			rq := loc.Query()
			if rq.Get("state") != state || rq.Get("code") == "" {
				return Tokens{}, fmt.Errorf("authorization response without code: %s", rq.Get("error"))
			}
			st, tok, err := w.Token(ctx, url.Values{"grant_type": {"authorization_code"}, "code": {rq.Get("code")},
				"redirect_uri": {w.Opts.Redirect}, "code_verifier": {verifier}})
			if err != nil {
				return Tokens{}, fmt.Errorf("code exchange (status %d): %w", st, err)
			}
			return tok, nil
		}
		st, body, err = w.Get(ctx, body)
	}
	return Tokens{}, errors.New("code flow: too many redirects")
}
