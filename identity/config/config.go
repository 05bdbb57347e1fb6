// Package config loads, overrides and validates the frontdesk configuration.
//
// Configuration comes from three layers, later layers winning:
//
//  1. built-in defaults (see Default),
//  2. an optional YAML file (the --config flag),
//  3. environment variables named FRONTDESK_<SECTION>_<KEY>, where SECTION and
//     KEY are the YAML names upper-cased, e.g. FRONTDESK_SERVER_LISTEN or
//     FRONTDESK_MAIL_SMTP_HOST. Durations use Go syntax ("15m"), booleans
//     true/false, lists are comma-separated.
//
// The clients list and outbound.allowed_ranges can only be set in the YAML
// file; they have no environment override.
//
// Unknown keys and unknown FRONTDESK_* variables are errors, and every invalid
// value is reported (all at once) with its dotted key, what is wrong and what is
// allowed. Secrets never appear in error messages, in String or in LogValue.
//
// This package deliberately imports no other frontdesk package; callers map
// the plain values here onto their own types.
package config

import (
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/frontdeskhq/frontdesk/lockout"
)

// Config is the complete frontdesk configuration. The yaml tags are the key
// names in the configuration file; the environment variable of a key is
// FRONTDESK_<SECTION>_<KEY> in upper case.
type Config struct {
	// Server configures the HTTP listener.
	Server Server `yaml:"server"`
	// Data configures the local data directory.
	Data Data `yaml:"data"`
	// Database selects the SQL database.
	Database Database `yaml:"database"`
	// Redis optionally configures a shared Redis.
	Redis Redis `yaml:"redis"`
	// Mail configures how outgoing mail is delivered.
	Mail Mail `yaml:"mail"`
	// Passwords configures password rules and hashing.
	Passwords Passwords `yaml:"passwords"`
	// Sessions configures login session lifetimes.
	Sessions Sessions `yaml:"sessions"`
	// Links configures one-time links sent by mail.
	Links Links `yaml:"links"`
	// Lockout configures failed-login lockout and per-address throttling.
	Lockout Lockout `yaml:"lockout"`
	// Bootstrap configures what is created on first start.
	Bootstrap Bootstrap `yaml:"bootstrap"`
	// Log configures logging.
	Log Log `yaml:"log"`
	// Audit configures the tamper-evident audit trail.
	Audit Audit `yaml:"audit"`
	// AdminAPI configures the admin REST API under /api/v1/.
	AdminAPI AdminAPI `yaml:"admin_api"`
	// OIDC configures the OpenID provider (keys and token lifetimes).
	OIDC OIDC `yaml:"oidc"`
	// Passkeys configures WebAuthn passkey login.
	Passkeys Passkeys `yaml:"passkeys"`
	// SSO configures practice single sign-on (upstream OpenID providers).
	SSO SSO `yaml:"sso"`
	// Outbound guards connections to addresses practice administrators
	// chose (SSO providers, registered apps' back-channel logout).
	Outbound Outbound `yaml:"outbound"`
	// Clients lists the registered OpenID Connect clients. It can only be set
	// in the configuration file, not from the environment.
	Clients []Client `yaml:"clients"`
}

// Outbound guards the connections frontdesk makes to addresses a practice
// administrator chose: SSO provider discovery and the endpoints it names,
// registered apps' back-channel logout URIs. Only public addresses are
// reached unless the operator allows more here.
type Outbound struct {
	// AllowedRanges are CIDRs (or single IP addresses) of non-public
	// networks those connections may reach anyway, e.g. an on-premises
	// identity provider on ["10.20.0.0/16"]. Configuration file only: it
	// has no environment override, and nothing in the admin API or console
	// changes it. Default [] (public addresses only).
	AllowedRanges []string `yaml:"allowed_ranges" env:"-"`
}

// Server configures the HTTP listener.
type Server struct {
	// Listen is the host:port the HTTP server listens on.
	Listen string `yaml:"listen"`
	// PublicURL is the absolute URL users reach the service at (http or
	// https, path allowed, no query or fragment, trailing slash stripped).
	// Plain http is only allowed for localhost, 127.0.0.1 and ::1 because
	// cookies are marked Secure.
	PublicURL string `yaml:"public_url"`
	// ReadHeaderTimeout bounds reading the request headers.
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	// ReadTimeout bounds reading the whole request.
	ReadTimeout time.Duration `yaml:"read_timeout"`
	// WriteTimeout bounds writing the response.
	WriteTimeout time.Duration `yaml:"write_timeout"`
	// IdleTimeout bounds how long an idle keep-alive connection is kept.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// ShutdownTimeout bounds the graceful shutdown.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// MaxBodyBytes is the largest accepted request body (1024..10485760).
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// TrustedProxies lists CIDRs or IP addresses whose X-Forwarded-For
	// header is believed.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// TLSCertFile and TLSKeyFile, both set, make serve speak HTTPS (TLS 1.2
	// or newer) with this PEM certificate chain and private key; both empty
	// means plain HTTP (behind a TLS-terminating proxy).
	TLSCertFile string `yaml:"tls_cert_file"`
	TLSKeyFile  string `yaml:"tls_key_file"`
}

// Data configures the local data directory.
type Data struct {
	// Dir holds the SQLite database file and file-transport mail.
	Dir string `yaml:"dir"`
}

// Database selects the SQL database.
type Database struct {
	// URL selects the database: "" means the SQLite file
	// <data.dir>/frontdesk.db; "sqlite:PATH", "sqlite://PATH" or "file:PATH"
	// select another SQLite file; "postgres://..." or "postgresql://..."
	// select PostgreSQL. A password in the URL is redacted when printed.
	URL string `yaml:"url" secret:"url"`
	// MaxOpenConns limits open database connections (1..1000).
	MaxOpenConns int `yaml:"max_open_conns"`
}

// Redis optionally configures a shared Redis.
type Redis struct {
	// URL is "" for no Redis, otherwise a redis:// or rediss:// URL. A
	// password in the URL is redacted when printed.
	URL string `yaml:"url" secret:"url"`
}

// Mail configures how outgoing mail is delivered.
type Mail struct {
	// Transport is "file" (write messages into Dir) or "smtp".
	Transport string `yaml:"transport"`
	// Dir is where the file transport writes messages; "" means
	// <data.dir>/mail.
	Dir string `yaml:"dir"`
	// From is the sender address, e.g. "frontdesk <no-reply@example.com>".
	From string `yaml:"from"`
	// SMTPHost is the SMTP server; required when Transport is "smtp".
	SMTPHost string `yaml:"smtp_host"`
	// SMTPPort is the SMTP server port (1..65535).
	SMTPPort int `yaml:"smtp_port"`
	// SMTPTLS is "starttls", "tls" (implicit TLS) or "none".
	SMTPTLS string `yaml:"smtp_tls"`
	// SMTPUsername enables SMTP authentication when set.
	SMTPUsername string `yaml:"smtp_username"`
	// SMTPPassword is the SMTP password; required when SMTPUsername is set.
	// It is a secret and never printed.
	SMTPPassword string `yaml:"smtp_password" secret:"true"`
	// RetryLimit is how many delivery attempts an outbox message gets before
	// it is marked failed (1..100).
	RetryLimit int `yaml:"retry_limit"`
	// RetryBackoff is the wait after the first failed attempt; it doubles
	// with each further failure (1s..1h).
	RetryBackoff time.Duration `yaml:"retry_backoff"`
	// RetryBackoffMax caps the wait between attempts (RetryBackoff..24h).
	RetryBackoffMax time.Duration `yaml:"retry_backoff_max"`
	// PollInterval is how often each replica's outbox worker looks for due
	// messages when nothing wakes it (100ms..1m).
	PollInterval time.Duration `yaml:"poll_interval"`
}

// Passwords configures password rules and hashing.
type Passwords struct {
	// MinLength is the minimum password length in characters (8..128).
	MinLength int `yaml:"min_length"`
	// MaxLength is the maximum password length (MinLength..4096).
	MaxLength int `yaml:"max_length"`
	// BlocklistFile optionally names a file of extra blocked passwords, one
	// per line; the file must exist when set.
	BlocklistFile string `yaml:"blocklist_file"`
	// Argon2MemoryKiB is the Argon2id memory cost in KiB.
	Argon2MemoryKiB uint32 `yaml:"argon2_memory_kib"`
	// Argon2Iterations is the Argon2id time cost.
	Argon2Iterations uint32 `yaml:"argon2_iterations"`
	// Argon2Parallelism is the Argon2id parallelism (1..16).
	Argon2Parallelism uint32 `yaml:"argon2_parallelism"`
	// HashConcurrency limits concurrent password hashes; 0 means the number
	// of CPUs (see Config.HashConcurrency).
	HashConcurrency int `yaml:"hash_concurrency"`
}

// Sessions configures login session lifetimes.
type Sessions struct {
	// IdleTimeout ends a session after this much inactivity.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// AbsoluteLifetime ends a session this long after login regardless of
	// activity; at least IdleTimeout.
	AbsoluteLifetime time.Duration `yaml:"absolute_lifetime"`
}

// Links configures one-time links sent by mail.
type Links struct {
	// SetupTTL is how long an owner setup link works (5m..720h).
	SetupTTL time.Duration `yaml:"setup_ttl"`
	// InvitationTTL is how long an invitation link works (5m..720h).
	InvitationTTL time.Duration `yaml:"invitation_ttl"`
	// ResetTTL is how long a password-reset link works (5m..24h).
	ResetTTL time.Duration `yaml:"reset_ttl"`
	// TemporaryPasswordTTL is how long a temporary password works (5m..168h).
	TemporaryPasswordTTL time.Duration `yaml:"temporary_password_ttl"`
}

// Lockout configures failed-login lockout. A practice's settings may override
// threshold, window and blocks for that practice.
type Lockout struct {
	// Threshold is the number of failed password attempts that locks an
	// account (1..100).
	Threshold int `yaml:"threshold"`
	// Window is how long failed attempts are counted; 0 counts them until a
	// successful login or an unlock.
	Window time.Duration `yaml:"window"`
	// Blocks is "password" (a lock blocks password login only; passkeys and
	// SSO still work) or "all".
	Blocks string `yaml:"blocks"`
	// AddressLimit is the number of failed logins from one client address
	// (IPv6: one /64), across accounts, after which logins from it answer
	// 429 until AddressWindow has passed; 0 disables the limit.
	AddressLimit int `yaml:"address_limit"`
	// AddressWindow is how long an address's failed logins are counted.
	AddressWindow time.Duration `yaml:"address_window"`
	// StartLimit is the number of passkey ceremonies and SSO sign-ins one
	// client address (IPv6: one /64) may begin, per kind, in StartWindow;
	// beyond it a start answers 429 and stores nothing. 0 disables the limit.
	StartLimit int `yaml:"start_limit"`
	// StartWindow is the fixed window starts are counted in.
	StartWindow time.Duration `yaml:"start_window"`
	// RedisRecoveryGrace is how long after Redis is seen to have lost its
	// counts (restarted empty, failed over) no password attempt is
	// admitted, so attempts let through before the loss reach the audit
	// trail the counts are rebuilt from. Only used with redis.url.
	RedisRecoveryGrace time.Duration `yaml:"redis_recovery_grace"`
}

// Bootstrap configures what is created on first start.
type Bootstrap struct {
	// Demo creates a demo practice on first start with an empty database.
	Demo bool `yaml:"demo"`
	// PracticeSlug is the demo practice's slug (see ValidSlug).
	PracticeSlug string `yaml:"practice_slug"`
	// PracticeName is the demo practice's display name.
	PracticeName string `yaml:"practice_name"`
	// OwnerEmail is the demo practice owner's e-mail address.
	OwnerEmail string `yaml:"owner_email"`
}

// Log configures logging.
type Log struct {
	// Level is "debug", "info", "warn" or "error".
	Level string `yaml:"level"`
	// Format is "json" or "text".
	Format string `yaml:"format"`
}

// Audit configures the tamper-evident audit trail.
type Audit struct {
	// Retention is how long audit events are kept at least. No event younger
	// than this is ever deleted; frontdesk itself never deletes any today.
	// Default 52560h (6 years, HIPAA 45 CFR 164.316(b)(2)); at least 8760h.
	Retention time.Duration `yaml:"retention"`
	// HeadLogInterval is how often each replica logs the head (sequence
	// number and hash) of every practice's audit chain ("audit chain head")
	// and publishes it as the frontdesk_audit_chain_head metric, so the
	// heads are kept outside the database (frontdesk audit verify --head).
	// 0 turns it off; otherwise 1m..24h. Default 1h.
	HeadLogInterval time.Duration `yaml:"head_log_interval"`
}

// AdminAPI configures the admin REST API.
type AdminAPI struct {
	// Clients are the IDs of the configured clients (see clients:) whose
	// access tokens the admin API accepts — the admin console or scripts.
	// Tokens issued to any other app are refused. Default [] (no client: the
	// API answers 401 to every call).
	Clients []string `yaml:"clients"`
}

// Passkeys configures WebAuthn (passkey) registration and login.
type Passkeys struct {
	// RPID is the WebAuthn relying-party ID: the host of server.public_url
	// (default, when "") or a registrable suffix of it. Passkeys are bound to
	// it; changing it later makes every registered passkey unusable.
	RPID string `yaml:"rp_id"`
	// RPName is the name authenticators show. Default "frontdesk".
	RPName string `yaml:"rp_name"`
	// Origins are the exact origins (scheme://host[:port]) a browser may
	// report; default [] means the origin of server.public_url.
	Origins []string `yaml:"origins"`
	// CeremonyTTL is how long a begun registration or login may be finished,
	// 30s..15m. Default 5m.
	CeremonyTTL time.Duration `yaml:"ceremony_ttl"`
	// ReauthWindow is how recent a login must be to add or remove a passkey
	// (older sessions are asked for the password again), 1m..1h. Default 5m.
	ReauthWindow time.Duration `yaml:"reauth_window"`
}

// OIDC configures the OpenID provider.
type OIDC struct {
	// MasterKey is the base64 encoding of 32 random bytes; it encrypts the
	// token-signing keys stored in the database. It is a secret and never
	// printed. On the embedded SQLite default an empty key means one is
	// generated once into <data.dir>/master.key (mode 0600); on PostgreSQL
	// it is required (every replica needs the same key).
	MasterKey string `yaml:"master_key" secret:"true"`
	// AccessTokenTTL is the default lifetime of access tokens (1m..1h).
	AccessTokenTTL time.Duration `yaml:"access_token_ttl"`
	// IDTokenTTL is the lifetime of ID tokens (1m..24h).
	IDTokenTTL time.Duration `yaml:"id_token_ttl"`
	// RefreshTokenTTL is how long a login's refresh-token family lasts
	// (1h..8760h); rotation does not extend it.
	RefreshTokenTTL time.Duration `yaml:"refresh_token_ttl"`
	// CodeTTL is the lifetime of authorization codes (10s..10m).
	CodeTTL time.Duration `yaml:"code_ttl"`
	// AuthRequestTTL is how long a person has to log in after an app sent
	// them here (1m..1h).
	AuthRequestTTL time.Duration `yaml:"auth_request_ttl"`
}

// Client is a registered OpenID Connect client. Clients are configured in the
// YAML file only.
type Client struct {
	// ID is the client_id; non-empty and unique.
	ID string `yaml:"id"`
	// Secret is the client secret (empty for public clients). It is a secret
	// and never printed.
	Secret string `yaml:"secret" secret:"true"`
	// RedirectURIs are the allowed absolute redirect URIs.
	RedirectURIs []string `yaml:"redirect_uris"`
	// PostLogoutRedirectURIs are the allowed post-logout redirect URIs.
	PostLogoutRedirectURIs []string `yaml:"post_logout_redirect_uris"`
	// GrantTypes are the allowed OAuth grant types.
	GrantTypes []string `yaml:"grant_types"`
	// Scopes are the scopes the client may request.
	Scopes []string `yaml:"scopes"`
	// BackchannelLogoutURI receives OpenID back-channel logout tokens.
	BackchannelLogoutURI string `yaml:"backchannel_logout_uri"`
	// RequirePermission names a permission a user must hold to sign in to
	// this client; "" means no extra permission is needed.
	RequirePermission string `yaml:"require_permission"`
	// AccessTokenTTL is the lifetime of access tokens issued to the client.
	AccessTokenTTL time.Duration `yaml:"access_token_ttl"`
	// Practice restricts the client to the practice with this slug; "" means
	// any practice.
	Practice string `yaml:"practice"`
	// SigningAlg, the older single setting, is the algorithm of both the
	// client's ID and access tokens when the two keys below are unset:
	// "ES256" or "RS256"; "" leaves each to its own default.
	SigningAlg string `yaml:"signing_alg"`
	// IDTokenSignedResponseAlg signs the client's ID tokens and logout
	// tokens: "RS256" (default when "", as OpenID Connect Core makes it) or
	// "ES256".
	IDTokenSignedResponseAlg string `yaml:"id_token_signed_response_alg"`
	// AccessTokenSigningAlg signs the client's access tokens: "ES256"
	// (default when "") or "RS256".
	AccessTokenSigningAlg string `yaml:"access_token_signing_alg"`
	// RequirePKCE false lets a confidential client log in without PKCE; it
	// must then send a nonce, and start-up logs a warning. Unset means true.
	RequirePKCE *bool `yaml:"require_pkce"`
}

// Default returns the built-in default configuration. It is a valid
// configuration for local development.
func Default() *Config {
	return &Config{
		Server: Server{
			Listen:            "localhost:8080",
			PublicURL:         "http://localhost:8080",
			ReadHeaderTimeout: 5 * time.Second,
			ReadTimeout:       15 * time.Second,
			WriteTimeout:      30 * time.Second,
			IdleTimeout:       120 * time.Second,
			ShutdownTimeout:   20 * time.Second,
			MaxBodyBytes:      65536,
		},
		Data:     Data{Dir: "./data"},
		Database: Database{MaxOpenConns: 10},
		Mail: Mail{
			Transport: "file",
			From:      "frontdesk <no-reply@localhost>",
			SMTPPort:  587,
			SMTPTLS:   "starttls",

			RetryLimit:      10,
			RetryBackoff:    30 * time.Second,
			RetryBackoffMax: time.Hour,
			PollInterval:    2 * time.Second,
		},
		Passwords: Passwords{
			MinLength:         15,
			MaxLength:         1024,
			Argon2MemoryKiB:   19456,
			Argon2Iterations:  2,
			Argon2Parallelism: 1,
		},
		Sessions: Sessions{
			IdleTimeout:      15 * time.Minute,
			AbsoluteLifetime: 12 * time.Hour,
		},
		Links: Links{SetupTTL: 72 * time.Hour, InvitationTTL: 7 * 24 * time.Hour, ResetTTL: time.Hour,
			TemporaryPasswordTTL: 24 * time.Hour},
		Lockout: Lockout{
			// The policy's default is the lockout package's (seed 001).
			Threshold:     lockout.DefaultPolicy().Threshold,
			Blocks:        string(lockout.DefaultPolicy().Blocks),
			AddressLimit:  30,
			AddressWindow: 15 * time.Minute,
			StartLimit:    30,
			StartWindow:   time.Minute,

			RedisRecoveryGrace: 10 * time.Second,
		},
		Bootstrap: Bootstrap{
			Demo:         true,
			PracticeSlug: "demo",
			PracticeName: "Demo Practice",
			OwnerEmail:   "owner@demo.example",
		},
		Log:      Log{Level: "info", Format: "json"},
		Audit:    Audit{Retention: 52560 * time.Hour, HeadLogInterval: time.Hour},
		AdminAPI: AdminAPI{Clients: []string{}},
		Passkeys: Passkeys{RPName: "frontdesk", Origins: []string{}, CeremonyTTL: 5 * time.Minute,
			ReauthWindow: 5 * time.Minute},
		SSO: SSO{Timeout: 10 * time.Second, FlowTTL: 10 * time.Minute, ReauthWindow: 10 * time.Minute},
		OIDC: OIDC{
			AccessTokenTTL:  5 * time.Minute,
			IDTokenTTL:      time.Hour,
			RefreshTokenTTL: 720 * time.Hour,
			CodeTTL:         time.Minute,
			AuthRequestTTL:  10 * time.Minute,
		},
	}
}

// Database driver names returned by DatabaseDriver.
const (
	DriverSQLite   = "sqlite"
	DriverPostgres = "postgres"
)

// DatabaseDriver returns the database driver and its data source: for SQLite
// ("sqlite", SQLitePath()), for PostgreSQL ("postgres", database.url). It
// assumes a validated configuration; an unsupported URL yields ("", "").
func (c *Config) DatabaseDriver() (driver, dsn string) {
	switch scheme := urlScheme(c.Database.URL); {
	case c.Database.URL == "", scheme == "sqlite", scheme == "file":
		return DriverSQLite, c.SQLitePath()
	case scheme == "postgres", scheme == "postgresql":
		return DriverPostgres, c.Database.URL
	default:
		return "", ""
	}
}

// SQLitePath returns the SQLite database path: <data.dir>/frontdesk.db when
// database.url is empty, the PATH of a sqlite:PATH, sqlite://PATH, file:PATH or
// file://PATH URL (so sqlite:///abs/x.db is /abs/x.db), and "" when the
// database is not SQLite. A ?query after PATH is kept for the driver.
func (c *Config) SQLitePath() string {
	u := c.Database.URL
	if u == "" {
		return filepath.Join(c.Data.Dir, "frontdesk.db")
	}
	switch urlScheme(u) {
	case "sqlite":
		rest := u[len("sqlite:"):]
		return strings.TrimPrefix(rest, "//")
	case "file":
		rest := u[len("file:"):]
		return strings.TrimPrefix(rest, "//")
	default:
		return ""
	}
}

// MailDir returns the directory the file mail transport writes into:
// mail.dir, or <data.dir>/mail when that is empty.
func (c *Config) MailDir() string {
	if c.Mail.Dir != "" {
		return c.Mail.Dir
	}
	return filepath.Join(c.Data.Dir, "mail")
}

// HashConcurrency returns passwords.hash_concurrency, or the number of CPUs
// when it is 0.
func (c *Config) HashConcurrency() int {
	if c.Passwords.HashConcurrency > 0 {
		return c.Passwords.HashConcurrency
	}
	return runtime.NumCPU()
}

// urlScheme returns the lower-cased scheme of a URL-like string ("" if none).
func urlScheme(s string) string {
	i := strings.IndexByte(s, ':')
	if i <= 0 {
		return ""
	}
	scheme := s[:i]
	for j, r := range scheme {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' ||
			j > 0 && (r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.')
		if !ok {
			return ""
		}
	}
	return strings.ToLower(scheme)
}
