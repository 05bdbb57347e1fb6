package apptest

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Browser is a person's browser: its own cookie jar, redirects not
// followed (a test sees each one).
type Browser struct {
	f *Frontdesk
	// Client is the browser's HTTP client.
	Client *http.Client
}

// Browser opens a new browser with no cookies.
func (f *Frontdesk) Browser() *Browser {
	f.T.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		f.T.Fatal(err)
	}
	transport := http.DefaultTransport
	if f.Server != nil {
		// Only the TLS transport is shared: Server.Client() is one client,
		// and setting its jar would make every browser one.
		transport = f.Server.Client().Transport
	}
	return &Browser{f: f, Client: &http.Client{Transport: transport, Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// Do sends method to path (below URL) with form, if any, as a form post;
// origin sets the Origin header a browser sends on a same-origin post. It
// returns the status, the Location header and the body.
func (b *Browser) Do(method, path string, form url.Values, origin bool) (int, string, string) {
	b.f.T.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.f.URL+path, body)
	if err != nil {
		b.f.T.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if origin {
		req.Header.Set("Origin", b.f.URL)
	}
	resp, err := b.Client.Do(req)
	if err != nil {
		b.f.T.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(out)
}

// Login posts the practice's login form and returns the status (303 when
// signed in).
func (b *Browser) Login(slug, email, pw string) int {
	b.f.T.Helper()
	status, _, _ := b.Do("POST", "/p/"+slug+"/login", url.Values{"email": {email}, "password": {pw}}, true)
	return status
}

var hiddenAuthRequest = regexp.MustCompile(`name="authRequest" value="([^"]+)"`)

// Grant is what an authorization-code flow ended with.
type Grant struct {
	Token *oauth2.Token
	// Code and Verifier are the authorization code and its PKCE verifier
	// (for tests that replay them).
	Code, Verifier string
}

// CodeFlow runs the authorization-code flow (PKCE) for cfg in the browser
// client c, signing in as email (with Password) in practice slug, with the
// extra authorization parameters. It returns the grant, or the error the
// flow stopped with (an error redirect to the app, a refused exchange).
func (f *Frontdesk) CodeFlow(c *http.Client, slug, email string, cfg *oauth2.Config, extra ...oauth2.AuthCodeOption) (Grant, error) {
	verifier := oauth2.GenerateVerifier()
	next := cfg.AuthCodeURL("st4te", append([]oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier),
		oauth2.SetAuthURLParam("practice", slug)}, extra...)...)
	for range 8 {
		resp, err := c.Get(next)
		if err != nil {
			return Grant{}, err
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if m := hiddenAuthRequest.FindSubmatch(body); resp.StatusCode == http.StatusOK && m != nil {
			form := url.Values{"email": {email}, "password": {Password}, "authRequest": {string(m[1])}}
			req, _ := http.NewRequest(http.MethodPost, f.URL+"/p/"+slug+"/login", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", f.URL)
			if resp, err = c.Do(req); err != nil {
				return Grant{}, err
			}
			_ = resp.Body.Close()
		}
		if resp.StatusCode/100 != 3 {
			return Grant{}, fmt.Errorf("login flow for %s stopped at %s: %s", email, resp.Status, body)
		}
		loc, err := resp.Location()
		if err != nil {
			return Grant{}, err
		}
		if strings.HasPrefix(loc.String(), cfg.RedirectURL) {
			if e := loc.Query().Get("error"); e != "" {
				return Grant{}, errors.New("authorization error: " + e + ": " + loc.Query().Get("error_description"))
			}
			code := loc.Query().Get("code")
			tok, err := cfg.Exchange(f.Ctx, code, oauth2.VerifierOption(verifier))
			if err != nil {
				return Grant{}, fmt.Errorf("exchange: %w", err)
			}
			return Grant{Token: tok, Code: code, Verifier: verifier}, nil
		}
		next = loc.String()
	}
	return Grant{}, errors.New("too many redirects in the login flow")
}

// Token runs the authorization-code flow for client (one of the kit's
// registered apps, scope openid) in a new browser, signing in as email in
// practice slug, and returns the access token.
func (f *Frontdesk) Token(slug, email, client string) string {
	f.T.Helper()
	cfg := &oauth2.Config{ClientID: client, ClientSecret: ClientSecret, RedirectURL: RedirectURI, Endpoint: f.RP().Endpoint(),
		Scopes: []string{gooidc.ScopeOpenID}}
	g, err := f.CodeFlow(f.Browser().Client, slug, email, cfg)
	if err != nil {
		f.T.Fatal(err)
	}
	return g.Token.AccessToken
}
