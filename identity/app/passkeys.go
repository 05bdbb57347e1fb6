package app

import (
	"crypto/rand"
	"io"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/config"
	"github.com/frontdeskhq/frontdesk/identity/passkeys"
	"github.com/frontdeskhq/frontdesk/identity/store"
)

// PasskeyRedisKeyPrefix starts every key of passkey ceremonies in Redis.
const PasskeyRedisKeyPrefix = "frontdesk:passkeys:"

// newPasskeys builds the passkey service from passkeys.*. A relying party the
// WebAuthn library refuses (for example an IP-address public URL) turns
// passkeys off with a warning instead of stopping the server: passwords keep
// working.
//
// With redis.url set (redisClient is then the lockout counters' client),
// ceremonies are kept in Redis; otherwise in the database. Either way any
// replica can finish a ceremony another began.
func newPasskeys(cfg *config.Config, st *store.Store, accounts *account.Service, perms account.Permissions,
	redisClient io.Closer, logger *slog.Logger) *passkeys.Service {
	var ceremonies passkeys.Ceremonies
	if rc, ok := redisClient.(redis.UniversalClient); ok && rc != nil {
		ceremonies = passkeys.NewRedisCeremonies(rc, PasskeyRedisKeyPrefix)
	}
	svc, err := passkeys.New(passkeys.Deps{Store: st, Accounts: accounts, Logger: logger, Now: time.Now, NewID: newID,
		Random: rand.Reader, Permissions: perms, Ceremonies: ceremonies}, passkeys.Config{
		RPID:         cfg.PasskeyRPID(),
		RPName:       cfg.Passkeys.RPName,
		Origins:      cfg.PasskeyOrigins(),
		CeremonyTTL:  cfg.Passkeys.CeremonyTTL,
		ReauthWindow: cfg.Passkeys.ReauthWindow,
	})
	if err != nil {
		logger.Warn("passkeys are off: the relying-party configuration was refused; set passkeys.rp_id and passkeys.origins",
			"rp_id", cfg.PasskeyRPID(), "origins", cfg.PasskeyOrigins(), "err", err)
		return nil
	}
	return svc
}

// Passkeys returns the passkey service built from the configuration, for
// operator commands (frontdesk admin revoke-passkeys); nil when the
// relying-party configuration is refused (passkeys are then off).
func (a *App) Passkeys() *passkeys.Service {
	return newPasskeys(a.Config, a.Store, a.Accounts, a.Roles, a.redis, a.Logger)
}
