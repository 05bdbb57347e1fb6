package app

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/config"
	"github.com/frontdeskhq/frontdesk/identity/onboarding"
	"github.com/frontdeskhq/frontdesk/identity/outbound"
	"github.com/frontdeskhq/frontdesk/identity/roles"
	"github.com/frontdeskhq/frontdesk/identity/sso"
	"github.com/frontdeskhq/frontdesk/identity/store"
)

// newSSO builds the single sign-on service from sso.*: upstream calls go
// through the outbound guard (outbound.allowed_ranges), bounded by
// sso.timeout, trusting the system roots plus sso.ca_file. Client secrets are sealed under the OpenID master key.
func newSSO(cfg *config.Config, st *store.Store, accounts *account.Service, onboard *onboarding.Service, rolesSvc *roles.Service,
	guard *outbound.Guard, logger *slog.Logger) (*sso.Service, error) {
	key, err := masterKey(cfg, logger)
	if err != nil {
		return nil, err
	}
	tlsCfg, err := ssoTLS(cfg.SSO)
	if err != nil {
		return nil, err
	}
	return sso.New(sso.Deps{Store: st, Accounts: accounts, Onboarding: onboard, Logger: logger, Now: time.Now, NewID: newID,
		Random: rand.Reader, MasterKey: key, Outbound: guard, TLS: tlsCfg, Permissions: rolesSvc,
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

// ssoTLS is the TLS configuration of upstream calls: the system roots plus
// sso.ca_file (nil when there is none).
func ssoTLS(c config.SSO) (*tls.Config, error) {
	if c.CAFile == "" {
		return nil, nil
	}
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
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}
