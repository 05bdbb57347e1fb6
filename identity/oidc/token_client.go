package oidc

import (
	"context"
	"maps"
	"net/http"
	"net/url"

	httphelper "github.com/zitadel/oidc/v3/pkg/http"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// ClientCredentialsExchange issues an access token to an app's back end. The
// subject is the client; a client bound to one practice gets its claims.
func (s *server) ClientCredentialsExchange(ctx context.Context, r *op.ClientRequest[oidc.ClientCredentialsRequest]) (*op.Response, error) {
	p := s.p
	cl, ok := r.Client.(*client)
	if !ok || !cl.allowsGrant(oidc.GrantTypeClientCredentials) {
		return nil, oidc.ErrUnauthorizedClient()
	}
	var scopes []string
	for _, sc := range r.Data.Scope {
		if sc == oidc.ScopeOpenID || sc == oidc.ScopeOfflineAccess || !cl.IsScopeAllowed(sc) {
			return nil, oidc.ErrInvalidScope().WithDescription("scope %q is not allowed for client credentials", sc)
		}
		scopes = append(scopes, sc)
	}
	g := &grant{client: cl, subject: cl.cfg.ID, scopes: scopes}
	if cl.cfg.Practice != "" {
		practice, err := p.d.Accounts.Practice(ctx, cl.cfg.Practice)
		if err != nil {
			return nil, serverError(err)
		}
		g.practice = practice
	}
	return p.respond(ctx, g, "")
}

// clientCredentialsFast serves the common client-credentials request itself
// and hands every other request to next (the library's endpoints). The
// library's token endpoint decodes the form twice by reflection, opens
// tracing spans and routes through chi and an issuer interceptor: about a
// fifth of a client-credentials grant's CPU beside the signature (issue 20
// point 3). Only a request of exactly this shape is served here: POST to
// the token endpoint without a query string, HTTP Basic client
// authentication (client_secret_basic) and no client credentials in the
// form, form parameters grant_type (once, client_credentials) and at most
// one scope, nothing else; the client known,
// its secret right, the grant allowed to it. Anything else — a wrong secret,
// an unknown client, a repeated or unexpected parameter — goes to the
// library unchanged, which answers it as before (checking the secret again:
// failures are not the fast path). What is served here is what the library
// would do for the same request: the same ClientCredentialsExchange, the
// same scope parsing (oidc.SpaceDelimitedArray) and the same JSON answer or
// error (op.WriteError). TestClientCredentialsFastPathMatchesLibrary
// compares the two on a table of requests.
func (p *Provider) clientCredentialsFast(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.noFastPath || r.Method != http.MethodPost || r.URL.Path != PathPrefix+"token" || r.URL.RawQuery != "" {
			next.ServeHTTP(w, r)
			return
		}
		if err := r.ParseForm(); err != nil {
			// The library's token endpoint begins with the same call and
			// answers so; it must be answered here, because a second
			// ParseForm reports no error.
			op.WriteError(w, r, oidc.ErrInvalidRequest().WithDescription("error parsing form").WithParent(err), nil)
			return
		}
		req, cl := p.fastClientCredentials(r)
		if cl == nil {
			next.ServeHTTP(w, r)
			return
		}
		if p.fastServed != nil {
			p.fastServed()
		}
		resp, err := p.server.ClientCredentialsExchange(r.Context(), &op.ClientRequest[oidc.ClientCredentialsRequest]{
			Request: &op.Request[oidc.ClientCredentialsRequest]{Method: r.Method, URL: r.URL, Header: r.Header, Form: r.Form, Data: req},
			Client:  cl,
		})
		if err != nil {
			op.WriteError(w, r, err, nil)
			return
		}
		maps.Copy(w.Header(), resp.Header)
		httphelper.MarshalJSON(w, resp.Data)
	})
}

// fastClientCredentials returns the request and its authenticated client
// when r has exactly the shape clientCredentialsFast serves, else nil.
func (p *Provider) fastClientCredentials(r *http.Request) (*oidc.ClientCredentialsRequest, *client) {
	grant := r.Form["grant_type"]
	if len(grant) != 1 || grant[0] != string(oidc.GrantTypeClientCredentials) {
		return nil, nil
	}
	var scope []string
	for k, v := range r.Form {
		switch k {
		case "grant_type":
		case "scope":
			if len(v) != 1 {
				return nil, nil
			}
			scope = v
		default:
			return nil, nil
		}
	}
	user, pass, ok := r.BasicAuth()
	if !ok {
		return nil, nil
	}
	id, err := url.QueryUnescape(user)
	if err != nil {
		return nil, nil
	}
	secret, err := url.QueryUnescape(pass)
	if err != nil || id == "" {
		return nil, nil
	}
	cl, err := p.lookupClient(r.Context(), id)
	if err != nil || cl == nil || !cl.checkSecret(secret) || cl.AuthMethod() == oidc.AuthMethodNone ||
		!op.ValidateGrantType(cl, oidc.GrantTypeClientCredentials) {
		return nil, nil
	}
	// As the library decodes it: from the form only, so without the
	// client's credentials, which came in the Authorization header.
	req := &oidc.ClientCredentialsRequest{GrantType: oidc.GrantTypeClientCredentials}
	if scope != nil {
		_ = req.Scope.UnmarshalText([]byte(scope[0])) // never fails
	}
	return req, cl
}
