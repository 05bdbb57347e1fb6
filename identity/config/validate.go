package config

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/frontdeskhq/frontdesk/lockout"
)

// ValidSlug reports whether s is a valid practice slug: 2 to 63 characters of
// a-z, 0-9 and '-', not starting or ending with '-'.
func ValidSlug(s string) bool {
	if len(s) < 2 || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// validator collects validation problems.
type validator struct {
	errs []error
}

func (v *validator) add(key, format string, args ...any) {
	v.errs = append(v.errs, &FieldError{Key: key, Err: fmt.Errorf(format, args...)})
}

// rangeInt reports n outside lo..hi and whether n was in range.
func (v *validator) rangeInt(key string, n, lo, hi int64) bool {
	switch {
	case n < lo:
		v.add(key, "%d is below the minimum %d (allowed %d..%d)", n, lo, lo, hi)
	case n > hi:
		v.add(key, "%d is above the maximum %d (allowed %d..%d)", n, hi, lo, hi)
	default:
		return true
	}
	return false
}

func (v *validator) positive(key string, d time.Duration) {
	if d <= 0 {
		v.add(key, "%s must be greater than 0", d)
	}
}

func (v *validator) oneOf(key, value string, allowed ...string) {
	for _, a := range allowed {
		if value == a {
			return
		}
	}
	v.add(key, "%q is not allowed; use one of %s", value, strings.Join(allowed, ", "))
}

func (v *validator) required(key, value string) bool {
	if strings.TrimSpace(value) == "" {
		v.add(key, "must not be empty")
		return false
	}
	return true
}

// Validate checks every setting and returns all problems joined with
// errors.Join (nil if the configuration is valid). Each problem is a
// *FieldError naming the dotted key. Validate does not modify c.
func (c *Config) Validate() error {
	v := &validator{}
	c.validateServer(v)
	v.required("data.dir", c.Data.Dir)
	c.validateDatabase(v)
	c.validateRedis(v)
	c.validateMail(v)
	c.validatePasswords(v)
	c.validateSessions(v)
	c.validateLockout(v)
	c.validateBootstrap(v)
	c.validateLog(v)
	c.validateAudit(v)
	c.validateAdminAPI(v)
	c.validateOIDC(v)
	c.validatePasskeys(v)
	c.validateSSO(v)
	c.validateOutbound(v)
	c.validateClients(v)
	return errors.Join(v.errs...)
}

func (c *Config) validateServer(v *validator) {
	s := &c.Server
	if v.required("server.listen", s.Listen) {
		_, port, err := net.SplitHostPort(s.Listen)
		if err != nil {
			v.add("server.listen", "%q is not host:port (e.g. \"localhost:8080\" or \":8080\"): %w", s.Listen, err)
		} else if _, err := strconv.ParseUint(port, 10, 16); err != nil {
			v.add("server.listen", "port %q must be a number 0..65535", port)
		}
	}
	if v.required("server.public_url", s.PublicURL) {
		validatePublicURL(v, "server.public_url", s.PublicURL)
	}
	v.positive("server.read_header_timeout", s.ReadHeaderTimeout)
	v.positive("server.read_timeout", s.ReadTimeout)
	v.positive("server.write_timeout", s.WriteTimeout)
	v.positive("server.idle_timeout", s.IdleTimeout)
	v.positive("server.shutdown_timeout", s.ShutdownTimeout)
	v.rangeInt("server.max_body_bytes", s.MaxBodyBytes, 1024, 10<<20)
	for i, p := range s.TrustedProxies {
		key := fmt.Sprintf("server.trusted_proxies[%d]", i)
		if strings.Contains(p, "/") {
			if _, err := netip.ParsePrefix(p); err != nil {
				v.add(key, "%q is not a valid CIDR such as \"10.0.0.0/8\": %w", p, err)
			}
		} else if _, err := netip.ParseAddr(p); err != nil {
			v.add(key, "%q is not a valid IP address or CIDR: %w", p, err)
		}
	}
	validateTLSFiles(v, s.TLSCertFile, s.TLSKeyFile)
}

func validatePublicURL(v *validator, key, raw string) {
	u, err := url.Parse(raw)
	if err != nil {
		v.add(key, "is not a valid URL: %w", err)
		return
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		v.add(key, "%q must be an absolute http:// or https:// URL", raw)
	case u.Host == "" || u.Opaque != "":
		v.add(key, "%q must be an absolute URL with a host, e.g. \"https://login.example.com\"", raw)
	case u.User != nil:
		v.add(key, "must not contain user info")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(raw, "#"):
		v.add(key, "%q must not have a query or fragment", raw)
	case u.Scheme == "http" && !isLoopbackName(u.Hostname()):
		v.add(key, "%q uses http on a non-local host; use https (session cookies are Secure; http is only allowed for localhost, 127.0.0.1 and ::1)", raw)
	}
}

func isLoopbackName(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

func (c *Config) validateDatabase(v *validator) {
	const key = "database.url"
	raw := c.Database.URL
	const allowed = "use \"\" (SQLite in data.dir), sqlite:PATH, sqlite://PATH, file:PATH, postgres://... or postgresql://..."
	switch scheme := urlScheme(raw); {
	case raw == "":
	case scheme == "sqlite" || scheme == "file":
		if strings.TrimSpace(c.SQLitePath()) == "" {
			v.add(key, "the SQLite URL has no path; %s", allowed)
		}
	case scheme == "postgres" || scheme == "postgresql":
		if _, err := url.Parse(raw); err != nil {
			// The URL may contain a password, so only the cause is reported.
			v.add(key, "is not a valid PostgreSQL URL: %w", urlCause(err))
		}
	case scheme == "":
		v.add(key, "has no scheme; %s", allowed)
	default:
		v.add(key, "scheme %q is not supported; %s", scheme, allowed)
	}
	v.rangeInt("database.max_open_conns", int64(c.Database.MaxOpenConns), 1, 1000)
}

func (c *Config) validateRedis(v *validator) {
	const key = "redis.url"
	raw := c.Redis.URL
	if raw == "" {
		return
	}
	switch scheme := urlScheme(raw); scheme {
	case "redis", "rediss":
		if _, err := url.Parse(raw); err != nil {
			v.add(key, "is not a valid Redis URL: %w", urlCause(err))
		}
	case "":
		v.add(key, "has no scheme; use redis://HOST:PORT or rediss://HOST:PORT, or \"\" for no Redis")
	default:
		v.add(key, "scheme %q is not supported; use redis:// or rediss://, or \"\" for no Redis", scheme)
	}
}

// urlCause strips the URL (which may hold a password) from a url.Parse error.
func urlCause(err error) error {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		return ue.Err
	}
	return err
}

func (c *Config) validateMail(v *validator) {
	m := &c.Mail
	v.oneOf("mail.transport", m.Transport, "file", "smtp")
	if v.required("mail.from", m.From) {
		if strings.ContainsAny(m.From, "\r\n") {
			v.add("mail.from", "must not contain line breaks")
		} else if _, err := mail.ParseAddress(m.From); err != nil {
			v.add("mail.from", "%q is not a valid address such as \"frontdesk <no-reply@example.com>\": %w", m.From, err)
		}
	}
	if strings.ContainsAny(m.SMTPHost, "\r\n") {
		v.add("mail.smtp_host", "must not contain line breaks")
	}
	if m.Transport == "smtp" && strings.TrimSpace(m.SMTPHost) == "" {
		v.add("mail.smtp_host", "is required when mail.transport is smtp")
	}
	v.rangeInt("mail.smtp_port", int64(m.SMTPPort), 1, 65535)
	v.oneOf("mail.smtp_tls", m.SMTPTLS, "starttls", "tls", "none")
	if m.SMTPUsername != "" && m.SMTPPassword == "" {
		v.errs = append(v.errs, &FieldError{Key: "mail.smtp_password", Err: fmt.Errorf(
			"%w: required when mail.smtp_username is set; set it in the config file or with FRONTDESK_MAIL_SMTP_PASSWORD",
			ErrMissingSecret)})
	}
	// The outbox settings take their defaults when zero (a configuration
	// built in code that leaves them out).
	if m.RetryLimit != 0 {
		v.rangeInt("mail.retry_limit", int64(m.RetryLimit), 1, 100)
	}
	durationRange(v, "mail.retry_backoff", m.RetryBackoff, time.Second, time.Hour, "1s..1h")
	durationRange(v, "mail.retry_backoff_max", m.RetryBackoffMax, max(m.RetryBackoff, time.Second), 24*time.Hour,
		"mail.retry_backoff..24h")
	durationRange(v, "mail.poll_interval", m.PollInterval, 100*time.Millisecond, time.Minute, "100ms..1m")
}

// durationRange checks that d lies in [lo, hi], naming the allowed range;
// zero means the default and is not checked.
func durationRange(v *validator, key string, d, lo, hi time.Duration, allowed string) {
	switch {
	case d == 0:
	case d < lo:
		v.add(key, "%s is below the minimum %s (allowed %s)", d, lo, allowed)
	case d > hi:
		v.add(key, "%s is above the maximum %s (allowed %s)", d, hi, allowed)
	}
}

func (c *Config) validatePasswords(v *validator) {
	p := &c.Passwords
	v.rangeInt("passwords.min_length", int64(p.MinLength), 8, 128)
	// NIST SP 800-63B-4 asks verifiers to accept at least 64 characters.
	v.rangeInt("passwords.max_length", int64(p.MaxLength), max(int64(p.MinLength), 64), 4096)
	if p.BlocklistFile != "" {
		if fi, err := os.Stat(p.BlocklistFile); err != nil {
			v.add("passwords.blocklist_file", "cannot use %q: %w", p.BlocklistFile, err)
		} else if fi.IsDir() {
			v.add("passwords.blocklist_file", "%q is a directory, not a file", p.BlocklistFile)
		}
	}
	v.rangeInt("passwords.argon2_parallelism", int64(p.Argon2Parallelism), 1, 16)
	// The same limits the hasher enforces: OWASP's argon2id floor, and the
	// ceilings beyond which stored hashes would be refused as malformed.
	if v.rangeInt("passwords.argon2_memory_kib", int64(p.Argon2MemoryKiB), 7168, 4<<20) &&
		v.rangeInt("passwords.argon2_iterations", int64(p.Argon2Iterations), 1, 64) &&
		uint64(p.Argon2MemoryKiB)*uint64(p.Argon2Iterations) < 35840 {
		v.add("passwords.argon2_memory_kib", "%d KiB with argon2_iterations %d is below OWASP's argon2id floor "+
			"(memory × iterations must be at least 35840, e.g. 19456 KiB × 2)", p.Argon2MemoryKiB, p.Argon2Iterations)
	}
	if p.HashConcurrency < 0 {
		v.add("passwords.hash_concurrency", "%d is below the minimum 0 (0 means the number of CPUs)", p.HashConcurrency)
	}
}

func (c *Config) validateSessions(v *validator) {
	s := &c.Sessions
	v.positive("sessions.idle_timeout", s.IdleTimeout)
	if s.AbsoluteLifetime < s.IdleTimeout || s.AbsoluteLifetime <= 0 {
		v.add("sessions.absolute_lifetime", "%s must be at least sessions.idle_timeout (%s)", s.AbsoluteLifetime, s.IdleTimeout)
	}
	switch ttl := c.Links.SetupTTL; {
	case ttl < 5*time.Minute:
		v.add("links.setup_ttl", "%s is below the minimum 5m (allowed 5m..720h)", ttl)
	case ttl > 720*time.Hour:
		v.add("links.setup_ttl", "%s is above the maximum 720h (allowed 5m..720h)", ttl)
	}
	durationRange(v, "links.invitation_ttl", c.Links.InvitationTTL, 5*time.Minute, 720*time.Hour, "5m..720h")
	durationRange(v, "links.reset_ttl", c.Links.ResetTTL, 5*time.Minute, 24*time.Hour, "5m..24h")
	durationRange(v, "links.temporary_password_ttl", c.Links.TemporaryPasswordTTL, 5*time.Minute, 168*time.Hour, "5m..168h")
}

func (c *Config) validateLockout(v *validator) {
	l := &c.Lockout
	v.rangeInt("lockout.threshold", int64(l.Threshold), lockout.MinThreshold, lockout.MaxThreshold)
	if l.Window < 0 {
		v.add("lockout.window", "%s must not be negative; use 0 to count failed attempts until a successful login or an unlock", l.Window)
	}
	v.oneOf("lockout.blocks", l.Blocks, "password", "all")
	v.rangeInt("lockout.address_limit", int64(l.AddressLimit), 0, 1000000)
	v.positive("lockout.address_window", l.AddressWindow)
	v.rangeInt("lockout.start_limit", int64(l.StartLimit), 0, 1000000)
	if l.StartWindow <= 0 {
		v.add("lockout.start_window", "%s must be greater than 0 (allowed 1s..24h)", l.StartWindow)
	} else {
		durationRange(v, "lockout.start_window", l.StartWindow, time.Second, 24*time.Hour, "1s..24h")
	}
	durationRange(v, "lockout.redis_recovery_grace", l.RedisRecoveryGrace, 0, 10*time.Minute, "0s..10m")
}

func (c *Config) validateBootstrap(v *validator) {
	b := &c.Bootstrap
	if !b.Demo {
		return // the remaining keys are only used for the demo practice
	}
	if !ValidSlug(b.PracticeSlug) {
		v.add("bootstrap.practice_slug", "%q is not a valid slug: use 2..63 characters a-z, 0-9 and '-', not starting or ending with '-'", b.PracticeSlug)
	}
	if v.required("bootstrap.practice_name", b.PracticeName) {
		if strings.IndexFunc(b.PracticeName, unicode.IsControl) >= 0 {
			v.add("bootstrap.practice_name", "must not contain control characters")
		}
	}
	if v.required("bootstrap.owner_email", b.OwnerEmail) {
		a, err := mail.ParseAddress(b.OwnerEmail)
		switch {
		case strings.ContainsAny(b.OwnerEmail, "\r\n"):
			v.add("bootstrap.owner_email", "must not contain line breaks")
		case err != nil:
			v.add("bootstrap.owner_email", "%q is not a valid e-mail address: %w", b.OwnerEmail, err)
		case a.Address != b.OwnerEmail:
			v.add("bootstrap.owner_email", "%q must be a bare address such as \"owner@example.com\"", b.OwnerEmail)
		}
	}
}

func (c *Config) validateLog(v *validator) {
	v.oneOf("log.level", c.Log.Level, "debug", "info", "warn", "error")
	v.oneOf("log.format", c.Log.Format, "json", "text")
}

// Bounds of every access-token lifetime: the provider's default, a
// configured client's and a registered app's. Role changes reach running apps
// within one access-token lifetime, hence the upper bound.
const (
	MinAccessTokenTTL = time.Minute
	MaxAccessTokenTTL = time.Hour
)

func (c *Config) validateClients(v *validator) {
	seen := map[string]int{}
	for i, cl := range c.Clients {
		prefix := fmt.Sprintf("clients[%d]", i)
		if strings.TrimSpace(cl.ID) == "" {
			v.add(prefix+".id", "must not be empty")
		} else if first, dup := seen[cl.ID]; dup {
			v.add(prefix+".id", "%q is already used by clients[%d]; client ids must be unique", cl.ID, first)
		} else {
			seen[cl.ID] = i
		}
		if cl.AccessTokenTTL != 0 && (cl.AccessTokenTTL < MinAccessTokenTTL || cl.AccessTokenTTL > MaxAccessTokenTTL) {
			// Role changes reach running apps within one access-token lifetime.
			v.add(prefix+".access_token_ttl", "is %s; it must be between %s and %s, or unset for oidc.access_token_ttl",
				cl.AccessTokenTTL, MinAccessTokenTTL, MaxAccessTokenTTL)
		}
		for _, a := range []struct{ key, val string }{{"signing_alg", cl.SigningAlg},
			{"id_token_signed_response_alg", cl.IDTokenSignedResponseAlg}, {"access_token_signing_alg", cl.AccessTokenSigningAlg}} {
			if a.val != "" && a.val != "ES256" && a.val != "RS256" {
				v.add(prefix+"."+a.key, "is %q; use \"ES256\" or \"RS256\", or leave it unset", a.val)
			}
		}
		if cl.RequirePKCE != nil && !*cl.RequirePKCE && cl.Secret == "" {
			v.add(prefix+".require_pkce", "may be false only for a confidential client (one with a secret); a public client must use PKCE")
		}
		for j, r := range cl.RedirectURIs {
			key := fmt.Sprintf("%s.redirect_uris[%d]", prefix, j)
			u, err := url.Parse(r)
			switch {
			case err != nil:
				v.add(key, "is not a valid URL: %w", err)
			case !u.IsAbs():
				v.add(key, "%q must be an absolute URI such as \"https://app.example.com/callback\"", r)
			}
		}
	}
}

func (c *Config) validateOIDC(v *validator) {
	o := c.OIDC
	if o.MasterKey != "" {
		if k, err := base64.StdEncoding.DecodeString(o.MasterKey); err != nil || len(k) != 32 {
			v.add("oidc.master_key", "must be the base64 encoding of exactly 32 random bytes; generate one with: openssl rand -base64 32")
		}
	}
	for _, d := range []struct {
		key    string
		val    time.Duration
		lo, hi time.Duration
	}{
		{"oidc.access_token_ttl", o.AccessTokenTTL, MinAccessTokenTTL, MaxAccessTokenTTL},
		{"oidc.id_token_ttl", o.IDTokenTTL, time.Minute, 24 * time.Hour},
		{"oidc.refresh_token_ttl", o.RefreshTokenTTL, time.Hour, 8760 * time.Hour},
		{"oidc.code_ttl", o.CodeTTL, 10 * time.Second, 10 * time.Minute},
		{"oidc.auth_request_ttl", o.AuthRequestTTL, time.Minute, time.Hour},
	} {
		if d.val < d.lo || d.val > d.hi {
			v.add(d.key, "is %s; it must be between %s and %s", d.val, d.lo, d.hi)
		}
	}
}

func (c *Config) validateAdminAPI(v *validator) {
	for _, id := range c.AdminAPI.Clients {
		found := false
		for _, cl := range c.Clients {
			found = found || cl.ID == id
		}
		if !found {
			v.add("admin_api.clients", "%q is not the id of a client under clients:; register the admin client there first", id)
		}
	}
}

func (c *Config) validateAudit(v *validator) {
	if c.Audit.Retention < 8760*time.Hour {
		v.add("audit.retention", "%s is shorter than one year (8760h); HIPAA asks for 6 years (52560h), the default", c.Audit.Retention)
	}
	if d := c.Audit.HeadLogInterval; d != 0 && (d < time.Minute || d > 24*time.Hour) {
		v.add("audit.head_log_interval", "%s is outside 1m..24h; use 0 to turn the periodic audit head line off", d)
	}
}
