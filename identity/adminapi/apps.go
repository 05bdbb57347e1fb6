package adminapi

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/oidc"
	"github.com/frontdeskhq/frontdesk/identity/store"
)

// Permissions of the apps endpoints: apps are practice settings.
const (
	PermViewApps   = "settings.view"
	PermManageApps = "settings.edit"
)

// AppRegistry registers a practice's own OpenID clients; *oidc.Provider is
// one.
type AppRegistry interface {
	Apps(ctx context.Context, practiceID string) ([]store.App, error)
	RegisterApp(ctx context.Context, practiceID, actorID string, req oidc.AppRequest, meta account.Meta) (store.App, string, error)
	RotateAppSecret(ctx context.Context, practiceID, clientID, actorID string, meta account.Meta) (store.App, string, error)
	RemoveApp(ctx context.Context, practiceID, clientID, actorID string, meta account.Meta) (int64, error)
	SetAppPermission(ctx context.Context, practiceID, clientID, actorID, perm string, meta account.Meta) (store.App, error)
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
	// ClientSecret is present only in the answer that issued it.
	ClientSecret string `json:"client_secret,omitempty"`
}

func appView(a store.App) App {
	v := App{ClientID: a.ClientID, Name: a.Name, RedirectURIs: a.RedirectURIs, GrantTypes: a.GrantTypes,
		Confidential: a.Confidential, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt, RequirePermission: a.RequirePermission}
	if v.RedirectURIs == nil {
		v.RedirectURIs = []string{}
	}
	if !a.SecretRotatedAt.IsZero() {
		t := a.SecretRotatedAt
		v.SecretRotatedAt = &t
	}
	return v
}

// appError maps the registry's errors.
func appError(err error) error {
	switch {
	case errors.Is(err, oidc.ErrInvalidApp):
		msg := err.Error()
		if i := strings.LastIndex(msg, oidc.ErrInvalidApp.Error()+": "); i >= 0 {
			msg = msg[i+len(oidc.ErrInvalidApp.Error())+2:]
		}
		return badRequest(msg)
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
	app, secret, err := a.d.Apps.RegisterApp(r.Context(), c.practice.ID, c.memberID, oidc.AppRequest{Name: body.Name,
		RedirectURIs: body.RedirectURIs, GrantTypes: body.GrantTypes, Confidential: *body.Confidential,
		RequirePermission: body.RequirePermission}, c.meta)
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
// registration: the permission it requires.
func (a *API) updateApp(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := a.appsAvailable(); err != nil {
		return err
	}
	var body struct {
		RequirePermission *string `json:"require_permission"`
	}
	if err := a.decode(w, r, &body); err != nil {
		return err
	}
	if body.RequirePermission == nil {
		return badRequest(`Send "require_permission": a permission of the catalogue (for example "app.*.login"), or "" to let every member of the practice log in.`)
	}
	app, err := a.d.Apps.SetAppPermission(r.Context(), c.practice.ID, r.PathValue("client_id"), c.memberID, *body.RequirePermission, c.meta)
	if err != nil {
		return appError(err)
	}
	writeJSON(w, http.StatusOK, appView(app))
	return nil
}
