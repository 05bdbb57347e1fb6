package app

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/config"
	"github.com/frontdeskhq/frontdesk/identity/httpserver"
	"github.com/frontdeskhq/frontdesk/identity/oidc"
	"github.com/frontdeskhq/frontdesk/identity/outbound"
	"github.com/frontdeskhq/frontdesk/identity/roles"
	"github.com/frontdeskhq/frontdesk/identity/store"
)

// MasterKeyFile is the file under data.dir holding the generated master key
// of the embedded default.
const MasterKeyFile = "master.key"

// masterKey returns oidc.master_key decoded. When it is empty: on SQLite a
// key is read from <data.dir>/master.key, or generated there once (mode
// 0600) and the log says so; on PostgreSQL start-up stops, naming the key.
func masterKey(cfg *config.Config, logger *slog.Logger) ([]byte, error) {
	if cfg.OIDC.MasterKey != "" {
		k, err := base64.StdEncoding.DecodeString(cfg.OIDC.MasterKey)
		if err != nil || len(k) != oidc.MasterKeySize {
			return nil, errors.New("config: oidc.master_key must be the base64 encoding of 32 random bytes")
		}
		return k, nil
	}
	if driver, _ := cfg.DatabaseDriver(); driver != config.DriverSQLite {
		return nil, errors.New("config: oidc.master_key (env FRONTDESK_OIDC_MASTER_KEY) is required with PostgreSQL: " +
			"set the same key on every replica; generate one with: openssl rand -base64 32")
	}
	path := filepath.Join(cfg.Data.Dir, MasterKeyFile)
	if b, err := os.ReadFile(path); err == nil {
		k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(k) != oidc.MasterKeySize {
			return nil, fmt.Errorf("%s does not hold a base64 master key of 32 bytes; restore it from backup", path)
		}
		return k, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read master key: %w", err)
	}
	k := make([]byte, oidc.MasterKeySize)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("generate master key: %w", err)
	}
	if err := os.MkdirAll(cfg.Data.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return masterKey(cfg, logger) // another process wrote it first
	}
	if err != nil {
		return nil, fmt.Errorf("write master key: %w", err)
	}
	if _, err := f.WriteString(base64.StdEncoding.EncodeToString(k) + "\n"); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("write master key: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("write master key: %w", err)
	}
	logger.Warn("generated the OpenID master key; back it up with the database, signing keys cannot be read without it",
		"file", path)
	return k, nil
}

// ClientConfigs maps the clients: section onto the provider's clients.
func ClientConfigs(in []config.Client) []oidc.ClientConfig {
	out := make([]oidc.ClientConfig, len(in))
	for i, c := range in {
		out[i] = oidc.ClientConfig{ID: c.ID, Secret: c.Secret, RedirectURIs: c.RedirectURIs,
			PostLogoutRedirectURIs: c.PostLogoutRedirectURIs, GrantTypes: c.GrantTypes, Scopes: c.Scopes,
			BackchannelLogoutURI: c.BackchannelLogoutURI, RequirePermission: c.RequirePermission,
			AccessTokenTTL: c.AccessTokenTTL, Practice: c.Practice, SigningAlg: c.SigningAlg,
			IDTokenAlg: c.IDTokenSignedResponseAlg, AccessTokenAlg: c.AccessTokenSigningAlg,
			PKCEOptional: c.RequirePKCE != nil && !*c.RequirePKCE}
	}
	return out
}

// RolesClaims adapts the role model to the provider's claims source. It is
// an oidc.MemberDataClaimsSource: grants pass the member row (and the
// refresh grant the role data) they have read.
func RolesClaims(svc *roles.Service) oidc.ClaimsSource { return rolesClaims{svc} }

type rolesClaims struct{ svc *roles.Service }

// Effective computes the member's claims.
func (c rolesClaims) Effective(ctx context.Context, practiceID, memberID string) (oidc.Effective, error) {
	return toClaims(c.svc.Effective(ctx, practiceID, memberID))
}

// EffectiveMember computes the claims of a member row just read.
func (c rolesClaims) EffectiveMember(ctx context.Context, m store.Member) (oidc.Effective, error) {
	return toClaims(c.svc.EffectiveMember(ctx, m))
}

// EffectiveMemberData computes the claims of a member row and role data
// just read.
func (c rolesClaims) EffectiveMemberData(ctx context.Context, m store.Member, d store.MemberRoleData) (oidc.Effective, error) {
	return toClaims(c.svc.EffectiveMemberData(ctx, m, d))
}

func toClaims(e roles.Effective, err error) (oidc.Effective, error) {
	if err != nil {
		return oidc.Effective{}, err
	}
	out := oidc.Effective{Roles: e.Roles, Permissions: e.Permissions, Supervisors: e.Supervisors,
		Supervisees: e.Supervisees, CosignNotes: e.CosignNotes, CosignTreatmentPlans: e.CosignTreatmentPlans}
	if e.Elevated {
		out.ElevatedUntil = e.ElevationExpires
	}
	return out, nil
}

// newOIDC builds the OpenID provider from the configuration.
func newOIDC(ctx context.Context, cfg *config.Config, st *store.Store, accounts *account.Service, claims oidc.ClaimsSource,
	guard *outbound.Guard, logger *slog.Logger) (*oidc.Provider, error) {
	key, err := masterKey(cfg, logger)
	if err != nil {
		return nil, err
	}
	return oidc.New(ctx, oidc.Deps{Store: st, Accounts: accounts, Claims: claims, Logger: logger, Now: time.Now,
		Random: rand.Reader, Outbound: guard}, oidc.Settings{
		Issuer: cfg.Server.PublicURL, MasterKey: key,
		AccessTokenTTL: cfg.OIDC.AccessTokenTTL, IDTokenTTL: cfg.OIDC.IDTokenTTL,
		RefreshTokenTTL: cfg.OIDC.RefreshTokenTTL, CodeTTL: cfg.OIDC.CodeTTL, AuthRequestTTL: cfg.OIDC.AuthRequestTTL,
		Clients: ClientConfigs(cfg.Clients), SessionCookie: httpserver.SessionCookie,
	})
}

// oidcHook lets the account service, built before the provider, call the
// provider's deactivation hook once it exists.
type oidcHook struct{ p *oidc.Provider }

func (h *oidcHook) deactivated(ctx context.Context, practiceID, memberID string) error {
	if h.p == nil {
		return nil
	}
	return h.p.MemberDeactivated(ctx, practiceID, memberID)
}
