package app

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/config"
	"github.com/frontdeskhq/frontdesk/identity/roles"
	"github.com/frontdeskhq/frontdesk/identity/sso"
	"github.com/frontdeskhq/frontdesk/identity/store"
)

// newSSO builds the single sign-on service from sso.*: upstream calls use a
// client bounded by sso.timeout that trusts the system roots plus
// sso.ca_file. Client secrets are sealed under the OpenID master key.
func newSSO(cfg *config.Config, st *store.Store, accounts *account.Service, rolesSvc *roles.Service,
	logger *slog.Logger) (*sso.Service, error) {
	key, err := masterKey(cfg, logger)
	if err != nil {
		return nil, err
	}
	client, err := ssoHTTPClient(cfg.SSO)
	if err != nil {
		return nil, err
	}
	return sso.New(sso.Deps{Store: st, Accounts: accounts, Logger: logger, Now: time.Now, NewID: newID,
		Random: rand.Reader, MasterKey: key, HTTPClient: client, Permissions: rolesSvc,
		RoleKeys: func(ctx context.Context, practiceID string) ([]string, error) {
			m, err := rolesSvc.Model(ctx, practiceID)
			if err != nil {
				return nil, err
			}
			keys := make([]string, 0, len(m.Roles))
			for _, r := range m.Roles {
				keys = append(keys, r.Key)
			}
			return keys, nil
		}}, sso.Config{PublicURL: cfg.Server.PublicURL, Timeout: cfg.SSO.Timeout, FlowTTL: cfg.SSO.FlowTTL,
		ReauthWindow: cfg.SSO.ReauthWindow})
}

func ssoHTTPClient(c config.SSO) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("config: sso.ca_file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("config: sso.ca_file: %s holds no PEM certificate", c.CAFile)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: tr, Timeout: c.Timeout,
		// Upstream token and discovery endpoints are called directly; a
		// redirect there is not followed.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}, nil
}
