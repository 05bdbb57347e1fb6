// Package app assembles a running frontdesk from its configuration: it opens and
// migrates the database, builds the password hasher and policy, the mail
// transport, the account service and the HTTP server. The commands in
// cmd/frontdesk call it.
package app

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/config"
	"github.com/frontdeskhq/frontdesk/identity/httpserver"
	"github.com/frontdeskhq/frontdesk/identity/oidc"
	"github.com/frontdeskhq/frontdesk/identity/onboarding"
	"github.com/frontdeskhq/frontdesk/identity/outbound"
	"github.com/frontdeskhq/frontdesk/identity/password"
	"github.com/frontdeskhq/frontdesk/identity/requestid"
	"github.com/frontdeskhq/frontdesk/identity/roles"
	"github.com/frontdeskhq/frontdesk/identity/sso"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/invites"
	"github.com/frontdeskhq/frontdesk/templates"
)

// App is an assembled frontdesk.
type App struct {
	Config   *config.Config
	Logger   *slog.Logger
	Store    *store.Store
	Accounts *account.Service
	// Onboarding invites members, issues temporary passwords and reset
	// links; Close it at shutdown (after the HTTP server) to finish queued
	// "forgot password" requests.
	Onboarding *onboarding.Service
	Registry   *prometheus.Registry
	Handler    *httpserver.Server
	// Roles computes effective permissions (for tokens) and makes every
	// administrative change to the role model.
	Roles *roles.Service
	// OIDC is the OpenID provider (signing keys, tokens).
	OIDC *oidc.Provider
	// Outbox delivers invitations, reset links, temporary passwords and
	// notices from the database outbox; RunOutbox runs it.
	Outbox *invites.Worker
	// SSO is practice single sign-on (upstream OpenID providers).
	SSO *sso.Service
	// Hasher is the accounts' password hasher (serve makes it collect
	// after each hash, password.Hasher.SetCollectAfterHash).
	Hasher *password.Hasher

	redis io.Closer // the lockout counters' Redis client, nil without Redis
	// auditHead publishes the audit chains' heads (LogAuditHeads).
	auditHead *prometheus.GaugeVec
}

// NewLogger builds the structured logger the configuration asks for.
func NewLogger(cfg config.Log, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.Level))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Format == "text" {
		return slog.New(requestid.Handler(slog.NewTextHandler(w, opts)))
	}
	return slog.New(requestid.Handler(slog.NewJSONHandler(w, opts)))
}

// Open connects to the configured database and applies pending migrations. It
// is all `frontdesk migrate` needs.
func Open(ctx context.Context, cfg *config.Config, logger *slog.Logger) (*store.Store, error) {
	driver, dsn := cfg.DatabaseDriver()
	engine := store.Engine(driver)
	if engine == store.SQLite {
		if err := os.MkdirAll(filepath.Dir(dsn), 0o700); err != nil {
			return nil, fmt.Errorf("app: data directory: %w", err)
		}
		// Create the file readable by this user only; SQLite gives its -wal and
		// -shm files the same permissions.
		f, err := os.OpenFile(dsn, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return nil, fmt.Errorf("app: database file: %w", err)
		}
		_ = f.Close()
	}
	st, err := store.Open(ctx, engine, dsn, store.Options{MaxOpenConns: cfg.Database.MaxOpenConns})
	if err != nil {
		return nil, err
	}
	if err := st.Migrate(ctx, logger); err != nil {
		_ = st.Close()
		return nil, err
	}
	return st, nil
}

// New assembles everything: database (migrated), services and HTTP handler.
func New(ctx context.Context, cfg *config.Config, logger *slog.Logger) (*App, error) {
	params := password.Params{MemoryKiB: cfg.Passwords.Argon2MemoryKiB, Iterations: cfg.Passwords.Argon2Iterations,
		Parallelism: uint8(cfg.Passwords.Argon2Parallelism)}
	if err := params.Validate(); err != nil {
		return nil, fmt.Errorf("config: passwords.argon2_*: %w", err)
	}
	policy, err := newPolicy(cfg.Passwords)
	if err != nil {
		return nil, err
	}
	proxies, err := parseProxies(cfg.Server.TrustedProxies)
	if err != nil {
		return nil, err
	}
	mailer, err := newSender(cfg, logger)
	if err != nil {
		return nil, err
	}
	pages, err := templates.ParsePages()
	if err != nil {
		return nil, err
	}
	mails, err := templates.ParseMails()
	if err != nil {
		return nil, err
	}
	st, err := Open(ctx, cfg, logger)
	if err != nil {
		return nil, err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	registerWALMetrics(reg, st)
	registerWriteFailureMetrics(reg, st)
	auditHead := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "frontdesk_audit_chain_head",
		Help: "Sequence number of each audit chain's head, labelled with the head's hash, as last logged " +
			"(audit.head_log_interval); keep it outside the database for frontdesk audit verify --head."},
		[]string{"practice_id", "hash"})
	reg.MustRegister(auditHead)
	guard, redisClient, err := newGuard(ctx, cfg, st, logger)
	if err != nil {
		_ = st.Close()
		return nil, err
	}
	hook := &oidcHook{}
	outbox, err := newOutboxWorker(cfg, st, mailer, logger, reg)
	if err != nil {
		_ = st.Close()
		return nil, err
	}
	// Emergency-access notices are queued in the outbox with the grant.
	rolesSvc, err := roles.New(roles.Deps{Store: st, Logger: logger, Now: time.Now, NewID: newID,
		NotifyTx: roles.OutboxNotifier(mails), Queued: outbox.Notify})
	if err != nil {
		_ = st.Close()
		return nil, err
	}
	// Practices whose roles predate delegation get their preset's "who staffs
	// whom", reported in each practice's audit trail (migration 00016).
	if _, err := rolesSvc.MigrateDelegation(ctx); err != nil {
		_ = st.Close()
		return nil, err
	}
	hasher := newHasher(params, cfg.HashConcurrency())
	accounts, err := account.New(account.Deps{
		Store:       st,
		Hasher:      hasher,
		Policy:      policy,
		Mail:        mailer,
		Mails:       mails,
		Logger:      logger,
		Registry:    reg,
		Now:         time.Now,
		NewID:       newID,
		Random:      rand.Reader,
		Guard:       guard,
		Permissions: rolesSvc,

		// Administrative actions check roles; queued mail wakes the outbox.
		Roles:        rolesSvc,
		OutboxNotify: outbox.Notify,

		// Refresh-token revocation and back-channel logout of a removed member.
		OnDeactivate: []func(ctx context.Context, practiceID, memberID string) error{hook.deactivated},
	}, account.Settings{
		PublicURL:        cfg.Server.PublicURL,
		SetupTTL:         cfg.Links.SetupTTL,
		IdleTimeout:      cfg.Sessions.IdleTimeout,
		AbsoluteLifetime: cfg.Sessions.AbsoluteLifetime,
		Lockout:          lockoutPolicy(cfg.Lockout),
		AppURLs:          appURLs(cfg.Clients),
	})
	if err != nil {
		_ = st.Close()
		return nil, err
	}
	// Invitations, temporary passwords and reset links, over the account
	// core; it registers the voiding of a removed member's invitations.
	onboard, err := onboarding.New(onboarding.Deps{Accounts: accounts, Store: st, Roles: rolesSvc, Policy: policy,
		Logger: logger, Registry: reg, Now: time.Now, NewID: newID, Random: rand.Reader},
		onboarding.Settings{InvitationTTL: cfg.Links.InvitationTTL, ResetTTL: cfg.Links.ResetTTL,
			TemporaryPasswordTTL: cfg.Links.TemporaryPasswordTTL})
	if err != nil {
		_ = st.Close()
		return nil, err
	}
	// One guard for every connection to an address a practice
	// administrator chose (SSO providers, registered apps' back-channel
	// logout).
	outGuard, err := outbound.New(cfg.Outbound.AllowedRanges)
	if err != nil {
		_ = st.Close()
		return nil, err
	}
	provider, err := newOIDC(ctx, cfg, st, accounts, RolesClaims(rolesSvc), outGuard, logger)
	if err != nil {
		_ = st.Close()
		return nil, err
	}
	hook.p = provider
	ssoSvc, err := newSSO(cfg, st, accounts, onboard, rolesSvc, outGuard, logger)
	if err != nil {
		_ = st.Close()
		return nil, err
	}
	passkeySvc := newPasskeys(cfg, st, accounts, rolesSvc, redisClient, logger)
	handler, err := httpserver.New(httpserver.Deps{
		Accounts:        accounts,
		Onboarding:      onboard,
		DB:              st,
		Pages:           pages,
		Logger:          logger,
		Registry:        reg,
		PublicURL:       cfg.Server.PublicURL,
		MaxBodyBytes:    cfg.Server.MaxBodyBytes,
		TrustedProxies:  proxies,
		SessionLifetime: cfg.Sessions.AbsoluteLifetime,
		OIDC:            provider,
		Passkeys:        passkeySvc,
		AdminAPI:        adminAPIFactory(cfg, st, accounts, onboard, rolesSvc, provider, ssoSvc, passkeySvc, logger),
		AdminStore:      st,
		AdminRoles:      rolesSvc,
		SSO:             ssoSvc,
		StartLimiter:    newStartLimiter(cfg, st, redisClient),
	})
	if err != nil {
		_ = st.Close()
		return nil, err
	}
	return &App{Config: cfg, Logger: logger, Store: st, Accounts: accounts, Onboarding: onboard, Registry: reg, Handler: handler,
		redis: redisClient, auditHead: auditHead, Roles: rolesSvc, OIDC: provider, Outbox: outbox, SSO: ssoSvc, Hasher: hasher}, nil
}

// Close releases the database.
func (a *App) Close() error {
	if a.redis != nil {
		_ = a.redis.Close()
	}
	return a.Store.Close()
}

// Bootstrap creates the demo practice on first start with an empty database,
// when the configuration asks for it, and logs the owner's setup link.
func (a *App) Bootstrap(ctx context.Context) error {
	b := a.Config.Bootstrap
	if !b.Demo {
		return nil
	}
	created, ok, err := a.Accounts.Bootstrap(ctx, account.NewPractice{Slug: b.PracticeSlug, Name: b.PracticeName,
		OwnerEmail: b.OwnerEmail})
	if err != nil {
		return fmt.Errorf("app: bootstrap: %w", err)
	}
	switch {
	case !ok:
	case a.Config.Mail.Transport == "file":
		// The embedded default has no mail server: the operator needs the link.
		a.Logger.InfoContext(ctx, "created the demo practice; open the setup link to choose the owner's password",
			"practice", b.PracticeSlug, "owner_email", b.OwnerEmail, "setup_url", created.SetupURL,
			"expires_at", created.ExpiresAt)
	default:
		// With real mail the link is a secret that belongs in the owner's inbox only.
		a.Logger.InfoContext(ctx, "created the demo practice; the setup link was emailed to the owner",
			"practice", b.PracticeSlug, "owner_email", b.OwnerEmail, "expires_at", created.ExpiresAt,
			"mail_error", created.MailErr)
	}
	return nil
}

func newID() string { return uuid.Must(uuid.NewV7()).String() }

func newPolicy(cfg config.Passwords) (*password.Policy, error) {
	var extra io.Reader
	if cfg.BlocklistFile != "" {
		f, err := os.Open(cfg.BlocklistFile)
		if err != nil {
			return nil, fmt.Errorf("config: passwords.blocklist_file: %w", err)
		}
		defer f.Close()
		extra = f
	}
	p, err := password.NewPolicy(cfg.MinLength, cfg.MaxLength, extra)
	if err != nil {
		return nil, fmt.Errorf("config: passwords: %w", err)
	}
	return p, nil
}

func parseProxies(in []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range in {
		if strings.Contains(s, "/") {
			p, err := netip.ParsePrefix(s)
			if err != nil {
				return nil, fmt.Errorf("config: server.trusted_proxies: %w", err)
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("config: server.trusted_proxies: %w", err)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

func newSender(cfg *config.Config, logger *slog.Logger) (invites.Sender, error) {
	if cfg.Mail.Transport == "smtp" {
		return invites.NewSMTPSender(invites.SMTPConfig{Host: cfg.Mail.SMTPHost, Port: cfg.Mail.SMTPPort,
			TLS: cfg.Mail.SMTPTLS, Username: cfg.Mail.SMTPUsername, Password: cfg.Mail.SMTPPassword,
			From: cfg.Mail.From}), nil
	}
	return invites.NewFileSender(cfg.MailDir(), cfg.Mail.From, logger, time.Now)
}

// registerWriteFailureMetrics exposes the writes the database refused for
// want of space or writability, by cause (store.WriteFailCauses), and
// whether writes are failing now (what /readyz reports).
func registerWriteFailureMetrics(reg *prometheus.Registry, st *store.Store) {
	for _, cause := range store.WriteFailCauses() {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "frontdesk_store_write_failures_total",
			Help:        "Writes the database refused because the disk is full, the database is read-only, or storage failed.",
			ConstLabels: prometheus.Labels{"cause": cause}},
			func() float64 { return float64(st.WriteFailures()[cause]) }))
	}
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "frontdesk_store_writes_failing",
		Help: "1 while writes fail for want of space or writability (/readyz is not ready), else 0."},
		func() float64 {
			if failing, _ := st.WritesFailing(); failing {
				return 1
			}
			return 0
		}))
}

// registerWALMetrics exposes the SQLite write-ahead log's length and its
// restarts (nothing on PostgreSQL): a log that keeps growing while
// restarts given up rise means readers never leave it.
func registerWALMetrics(reg *prometheus.Registry, st *store.Store) {
	if _, ok := st.WALStats(); !ok {
		return
	}
	stat := func(f func(store.WALStats) int64) func() float64 {
		return func() float64 {
			s, _ := st.WALStats()
			return float64(f(s))
		}
	}
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "frontdesk_sqlite_wal_pages",
			Help: "Length of the SQLite write-ahead log in 4 KiB pages at the last checkpoint."},
			stat(func(s store.WALStats) int64 { return s.LogPages })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "frontdesk_sqlite_wal_restarts_total",
			Help: "Times the checkpointer started the SQLite write-ahead log again."},
			stat(func(s store.WALStats) int64 { return s.Restarts })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "frontdesk_sqlite_wal_restarts_given_up_total",
			Help: "Log restarts given up because readers stayed in the log; the next round tries again."},
			stat(func(s store.WALStats) int64 { return s.RestartsGivenUp })),
	)
}
