package adminapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/config"
	"github.com/frontdeskhq/frontdesk/identity/oidc"
	"github.com/frontdeskhq/frontdesk/identity/store"
)

// AppRegistry registers a practice's own OpenID clients; *oidc.Provider is
// one.
type AppRegistry interface {
	Apps(ctx context.Context, practiceID string) ([]store.App, error)
	RegisterApp(ctx context.Context, practiceID, actorID string, req oidc.AppRequest, meta account.Meta) (store.App, string, error)
	RotateAppSecret(ctx context.Context, practiceID, clientID, actorID string, meta account.Meta) (store.App, string, error)
	RemoveApp(ctx context.Context, practiceID, clientID, actorID string, meta account.Meta) (int64, error)
	UpdateApp(ctx context.Context, practiceID, clientID, actorID string, upd oidc.AppUpdate, meta account.Meta) (store.App, error)
}

// App is a registered app as the API shows it (never its secret's hash).
type App struct {
	ClientID        string     `json:"client_id"`
	Name            string     `json:"name"`
	RedirectURIs    []string   `json:"redirect_uris"`
	GrantTypes      []string   `json:"grant_types"`
	Confidential    bool       `json:"confidential"`
	CreatedAt       time.Time  `json:"created_at"`
	UpdatedAt       time.Time  `json:"updated_at"`
	SecretRotatedAt *time.Time `json:"secret_rotated_at,omitempty"`
	// RequirePermission is the permission a member must hold to log in to
	// the app and refresh its tokens; "" when any member may.
	RequirePermission string `json:"require_permission"`
	// BackchannelLogoutURI receives OpenID back-channel logout tokens; ""
	// when none.
	BackchannelLogoutURI string `json:"backchannel_logout_uri"`
	// AccessTokenTTLSeconds is the lifetime of the app's access tokens; 0
	// means the server's default.
	AccessTokenTTLSeconds int64 `json:"access_token_ttl_seconds"`
	// IDTokenSignedResponseAlg signs the app's ID and logout tokens and
	// AccessTokenSigningAlg its access tokens: "RS256" or "ES256".
	IDTokenSignedResponseAlg string `json:"id_token_signed_response_alg"`
	AccessTokenSigningAlg    string `json:"access_token_signing_alg"`
	// DisplayName is what staff see on their home page ("" shows name);
	// LaunchURL opens the app from there ("" keeps it off the home page).
	DisplayName string `json:"display_name"`
	LaunchURL   string `json:"launch_url"`
	// ClientSecret is present only in the answer that issued it.
	ClientSecret string `json:"client_secret,omitempty"`
}

func appView(a store.App) App {
	v := App{ClientID: a.ClientID, Name: a.Name, RedirectURIs: a.RedirectURIs, GrantTypes: a.GrantTypes,
		Confidential: a.Confidential, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt, RequirePermission: a.RequirePermission,
		BackchannelLogoutURI: a.BackchannelLogoutURI, AccessTokenTTLSeconds: int64(a.AccessTokenTTL / time.Second),
		IDTokenSignedResponseAlg: a.IDTokenAlg, AccessTokenSigningAlg: a.AccessTokenAlg,
		DisplayName: a.DisplayName, LaunchURL: a.LaunchURL}
	if v.RedirectURIs == nil {
		v.RedirectURIs = []string{}
	}
	if !a.SecretRotatedAt.IsZero() {
		t := a.SecretRotatedAt
		v.SecretRotatedAt = &t
	}
	return v
}

// ttlSeconds turns access_token_ttl_seconds into a lifetime; the registry
// checks its bounds, this only keeps the conversion from overflowing.
func ttlSeconds(n int64) (time.Duration, error) {
	if n < 0 || n > 1<<20 {
		return 0, badRequest(fmt.Sprintf("access_token_ttl_seconds must be 0 (the server's default) or %d to %d.",
			int64(config.MinAccessTokenTTL/time.Second), int64(config.MaxAccessTokenTTL/time.Second)))
	}
	return time.Duration(n) * time.Second, nil
}

// appError maps the registry's errors (oidc.ErrInvalidApp is a problem
// that fail maps).
func appError(err error) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return &apiError{http.StatusNotFound, "not_found", "There is no such app in this practice."}
	}
	return err
}

func (a *API) appsAvailable() error {
	if a.d.Apps == nil {
		return &apiError{http.StatusNotFound, "not_found", "Registering apps is not enabled on this server."}
	}
	return nil
}

func (a *API) listApps(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := a.appsAvailable(); err != nil {
		return err
	}
	apps, err := a.d.Apps.Apps(r.Context(), c.practice.ID)
	if err != nil {
		return err
	}
	out := struct {
		Apps []App `json:"apps"`
	}{Apps: make([]App, 0, len(apps))}
	for _, x := range apps {
		out.Apps = append(out.Apps, appView(x))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// withheldSecret is what a replay of a call that issued a secret shows
// instead: the secret is stored nowhere but as a hash.
const withheldSecret = ""

func (a *API) registerApp(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := a.appsAvailable(); err != nil {
		return err
	}
	var body struct {
		Name         string   `json:"name"`
		RedirectURIs []string `json:"redirect_uris"`
		GrantTypes   []string `json:"grant_types"`
		Confidential *bool    `json:"confidential"`
		// RequirePermission is optional; "" or absent means none.
		RequirePermission string `json:"require_permission"`
		// BackchannelLogoutURI is optional; "" or absent means none.
		BackchannelLogoutURI string `json:"backchannel_logout_uri"`
		// AccessTokenTTLSeconds is optional; 0 or absent means the default.
		AccessTokenTTLSeconds int64 `json:"access_token_ttl_seconds"`
		// The algorithms are optional; "" or absent means RS256 for ID
		// tokens and ES256 for access tokens.
		IDTokenSignedResponseAlg string `json:"id_token_signed_response_alg"`
		AccessTokenSigningAlg    string `json:"access_token_signing_alg"`
		// DisplayName and LaunchURL are optional: how the app appears on
		// staff's home page.
		DisplayName string `json:"display_name"`
		LaunchURL   string `json:"launch_url"`
	}
	if err := a.decode(w, r, &body); err != nil {
		return err
	}
	if body.Confidential == nil {
		return badRequest(`Say whether the app keeps a secret: "confidential": true (a server) or false (a tablet or desktop app, PKCE only).`)
	}
	if len(body.RedirectURIs) > 50 || len(body.GrantTypes) > 10 {
		return badRequest("Too many redirect URIs or grant types.")
	}
	ttl, err := ttlSeconds(body.AccessTokenTTLSeconds)
	if err != nil {
		return err
	}
	app, secret, err := a.d.Apps.RegisterApp(r.Context(), c.practice.ID, c.memberID, oidc.AppRequest{Name: body.Name,
		RedirectURIs: body.RedirectURIs, GrantTypes: body.GrantTypes, Confidential: *body.Confidential,
		RequirePermission: body.RequirePermission, BackchannelLogoutURI: body.BackchannelLogoutURI, AccessTokenTTL: ttl,
		IDTokenAlg: body.IDTokenSignedResponseAlg, AccessTokenAlg: body.AccessTokenSigningAlg,
		DisplayName: body.DisplayName, LaunchURL: body.LaunchURL}, c.meta)
	if err != nil {
		return appError(err)
	}
	v := appView(app)
	writeSecretOnce(w, http.StatusCreated, v, secret)
	return nil
}

// writeSecretOnce answers v with the secret, and keeps a copy without it for
// an idempotent replay.
func writeSecretOnce(w http.ResponseWriter, status int, v App, secret string) {
	if rec, ok := w.(*recorder); ok {
		v.ClientSecret = withheldSecret
		rec.replay = mustJSON(v)
	}
	v.ClientSecret = secret
	writeJSON(w, status, v)
}

func (a *API) rotateAppSecret(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := a.appsAvailable(); err != nil {
		return err
	}
	app, secret, err := a.d.Apps.RotateAppSecret(r.Context(), c.practice.ID, r.PathValue("client_id"), c.memberID, c.meta)
	if err != nil {
		return appError(err)
	}
	writeSecretOnce(w, http.StatusOK, appView(app), secret)
	return nil
}

func (a *API) removeApp(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := a.appsAvailable(); err != nil {
		return err
	}
	n, err := a.d.Apps.RemoveApp(r.Context(), c.practice.ID, r.PathValue("client_id"), c.memberID, c.meta)
	if err != nil {
		return appError(err)
	}
	writeJSON(w, http.StatusOK, map[string]any{"client_id": r.PathValue("client_id"), "removed": true,
		"refresh_tokens_revoked": n})
	return nil
}

// updateApp changes what can be changed of a registered app after
// registration: the permission it requires, its back-channel logout URI,
// its access-token lifetime and its token algorithms. Absent fields stay as
// they are.
func (a *API) updateApp(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := a.appsAvailable(); err != nil {
		return err
	}
	var body struct {
		RequirePermission        *string `json:"require_permission"`
		BackchannelLogoutURI     *string `json:"backchannel_logout_uri"`
		AccessTokenTTLSeconds    *int64  `json:"access_token_ttl_seconds"`
		IDTokenSignedResponseAlg *string `json:"id_token_signed_response_alg"`
		AccessTokenSigningAlg    *string `json:"access_token_signing_alg"`
		DisplayName              *string `json:"display_name"`
		LaunchURL                *string `json:"launch_url"`
	}
	if err := a.decode(w, r, &body); err != nil {
		return err
	}
	if body.RequirePermission == nil && body.BackchannelLogoutURI == nil && body.AccessTokenTTLSeconds == nil &&
		body.IDTokenSignedResponseAlg == nil && body.AccessTokenSigningAlg == nil && body.DisplayName == nil && body.LaunchURL == nil {
		return badRequest(`Send at least one of "require_permission" (a permission of the catalogue, for example "app.*.login", or "" to let every member of the practice log in), ` +
			`"backchannel_logout_uri" (an https URL, or "" for none), "access_token_ttl_seconds" (60 to 3600, or 0 for the server's default), ` +
			`"id_token_signed_response_alg" and "access_token_signing_alg" ("RS256" or "ES256"), ` +
			`"display_name" and "launch_url" (how staff open the app from their home page; "" for none).`)
	}
	upd := oidc.AppUpdate{RequirePermission: body.RequirePermission, BackchannelLogoutURI: body.BackchannelLogoutURI,
		IDTokenAlg: body.IDTokenSignedResponseAlg, AccessTokenAlg: body.AccessTokenSigningAlg,
		DisplayName: body.DisplayName, LaunchURL: body.LaunchURL}
	if body.AccessTokenTTLSeconds != nil {
		ttl, err := ttlSeconds(*body.AccessTokenTTLSeconds)
		if err != nil {
			return err
		}
		upd.AccessTokenTTL = &ttl
	}
	app, err := a.d.Apps.UpdateApp(r.Context(), c.practice.ID, r.PathValue("client_id"), c.memberID, upd, c.meta)
	if err != nil {
		return appError(err)
	}
	writeJSON(w, http.StatusOK, appView(app))
	return nil
}
