package adminapi

import (
	"errors"
	"net/http"

	"github.com/frontdeskhq/frontdesk/identity/roles"
	"github.com/frontdeskhq/frontdesk/identity/sso"
)

// ssoRoutes registers the practice's single sign-on providers:
// GET/POST /sso-providers and DELETE /sso-providers/{id}. The client secret
// is write-only: accepted on POST, never returned.
func (a *API) ssoRoutes(prefix string) {
	if a.d.SSO == nil {
		return
	}
	a.handle("GET "+prefix+"/sso-providers", roles.PermViewSettings, a.listSSOProviders)
	a.handle("POST "+prefix+"/sso-providers", roles.PermEditSettings, a.idempotent(a.createSSOProvider))
	a.handle("DELETE "+prefix+"/sso-providers/{id}", roles.PermEditSettings, a.deleteSSOProvider)
}

// ssoProviderRequest is the body of POST /sso-providers.
type ssoProviderRequest struct {
	Kind           string   `json:"kind"`
	DisplayName    string   `json:"display_name"`
	Issuer         string   `json:"issuer"`
	Tenant         string   `json:"tenant"`
	ClientID       string   `json:"client_id"`
	ClientSecret   string   `json:"client_secret"`
	AllowedDomains []string `json:"allowed_domains"`
	JoinEnabled    bool     `json:"join_enabled"`
	JoinRole       string   `json:"join_role"`
}

// ssoError maps the SSO service's errors; others go to fail.
func ssoError(err error) error {
	var invalid *sso.InvalidError
	switch {
	case errors.As(err, &invalid):
		return badRequest(invalid.Error())
	case errors.Is(err, sso.ErrProviderExists):
		return &apiError{http.StatusConflict, "already_exists", "This practice already has a provider with that issuer and client ID; remove it first to replace it."}
	case errors.Is(err, sso.ErrProviderNotFound):
		return &apiError{http.StatusNotFound, "not_found", "There is no such sign-in provider in this practice."}
	}
	return err
}

func (a *API) listSSOProviders(w http.ResponseWriter, r *http.Request, c *caller) error {
	list, err := a.d.SSO.Providers(r.Context(), c.practice.Slug, c.actor())
	if err != nil {
		return ssoError(err)
	}
	writeJSON(w, http.StatusOK, map[string]any{"providers": list})
	return nil
}

func (a *API) createSSOProvider(w http.ResponseWriter, r *http.Request, c *caller) error {
	var in ssoProviderRequest
	if err := a.decode(w, r, &in); err != nil {
		return err
	}
	p, err := a.d.SSO.AddProvider(r.Context(), c.practice.Slug, c.actor(), sso.NewProvider{Kind: in.Kind,
		DisplayName: in.DisplayName, Issuer: in.Issuer, Tenant: in.Tenant, ClientID: in.ClientID,
		ClientSecret: in.ClientSecret, AllowedDomains: in.AllowedDomains, JoinEnabled: in.JoinEnabled,
		JoinRole: in.JoinRole}, c.meta)
	if err != nil {
		return ssoError(err)
	}
	writeJSON(w, http.StatusCreated, p)
	return nil
}

func (a *API) deleteSSOProvider(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := a.d.SSO.RemoveProvider(r.Context(), c.practice.Slug, c.actor(), r.PathValue("id"), c.meta); err != nil {
		return ssoError(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
