package app

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/adminapi"
	"github.com/frontdeskhq/frontdesk/identity/config"
	"github.com/frontdeskhq/frontdesk/identity/enforce"
	"github.com/frontdeskhq/frontdesk/identity/oidc"
	"github.com/frontdeskhq/frontdesk/identity/onboarding"
	"github.com/frontdeskhq/frontdesk/identity/passkeys"
	"github.com/frontdeskhq/frontdesk/identity/roles"
	"github.com/frontdeskhq/frontdesk/identity/sso"
	"github.com/frontdeskhq/frontdesk/identity/store"
)

// inProcess is an http.RoundTripper that answers every request from handler
// without touching the network: the admin API fetches frontdesk's own JWKS
// from the provider in the same process, so it works whatever the public URL
// resolves to from inside the server.
type inProcess struct{ handler http.Handler }

func (t inProcess) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.handler.ServeHTTP(rec, r)
	return rec.Result(), nil
}

// adminAPIFactory returns the constructor httpserver calls to mount the admin
// API: one enforce.Verifier per client in admin_api.clients, all reading the
// provider's keys in-process.
func adminAPIFactory(cfg *config.Config, st *store.Store, accounts *account.Service, onboard *onboarding.Service, rolesSvc *roles.Service,
	provider *oidc.Provider, ssoSvc *sso.Service, passkeySvc *passkeys.Service, logger *slog.Logger) func(func(*http.Request) account.Meta) (http.Handler, error) {
	return func(meta func(*http.Request) account.Meta) (http.Handler, error) {
		client := &http.Client{Transport: inProcess{handler: provider}, Timeout: 10 * time.Second}
		var verifiers []adminapi.Verifier
		for _, id := range cfg.AdminAPI.Clients {
			v, err := enforce.New(enforce.Config{Issuer: provider.Issuer(), Audience: id, HTTPClient: client,
				Now: provider.Now})
			if err != nil {
				return nil, fmt.Errorf("app: admin API verifier for %q: %w", id, err)
			}
			verifiers = append(verifiers, v)
		}
		d := adminapi.Deps{Store: st, Accounts: accounts, Onboarding: onboard, Roles: rolesSvc, Verifiers: verifiers,
			Logger: logger, Meta: meta, Now: provider.Now, MaxBodyBytes: cfg.Server.MaxBodyBytes, Apps: provider, SSO: ssoSvc}
		if passkeySvc != nil {
			d.Passkeys = passkeySvc
		}
		return adminapi.New(d)
	}
}
