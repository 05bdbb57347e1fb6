package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/app"
	"github.com/frontdeskhq/frontdesk/identity/config"
	"github.com/frontdeskhq/frontdesk/identity/roles"
	"github.com/frontdeskhq/frontdesk/identity/store"
)

// newFlags returns a flag set with the --config flag every command shares.
func newFlags(name string, stderr io.Writer) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "YAML configuration `file` (optional)")
	return fs, path
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{msg: err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{msg: fmt.Sprintf("%s: unexpected argument %q", fs.Name(), fs.Arg(0))}
	}
	return nil
}

func loadConfig(path string, env []string) (*config.Config, error) {
	cfg, err := config.Load(path, env)
	if err != nil {
		return nil, fmt.Errorf("configuration is not usable:\n%w", err)
	}
	return cfg, nil
}

// openApp loads the configuration and assembles the whole service (database
// migrated), for commands that act through the domain services.
func openApp(ctx context.Context, path string, env []string, stderr io.Writer) (*app.App, error) {
	cfg, err := loadConfig(path, env)
	if err != nil {
		return nil, err
	}
	return app.New(ctx, cfg, newCommandLogger(cfg, stderr))
}

// openStore loads the configuration and opens the database (migrated), for
// commands that only read or check storage.
func openStore(ctx context.Context, path string, env []string, stderr io.Writer) (*store.Store, error) {
	cfg, err := loadConfig(path, env)
	if err != nil {
		return nil, err
	}
	return app.Open(ctx, cfg, newCommandLogger(cfg, stderr))
}

// newLogger builds the configured logger and makes it the process's default,
// so the lines libraries log through slog's and log's package functions (the
// OpenID library's "registered route", net/http's server errors) come out in
// the same format: with log.format json every line on stderr is JSON.
func newLogger(cfg *config.Config, stderr io.Writer) *slog.Logger {
	logger := app.NewLogger(cfg.Log, stderr)
	slog.SetDefault(logger)
	return logger
}

// newCommandLogger is newLogger for the one-shot commands (admin, practice,
// keys, audit): frontdesk's own lines keep the configured level, but the
// libraries' informational lines (the OpenID library announcing each route
// it registers) are dropped, so an operator sees only what the command says
// and what went wrong.
func newCommandLogger(cfg *config.Config, stderr io.Writer) *slog.Logger {
	logger := app.NewLogger(cfg.Log, stderr)
	slog.SetDefault(slog.New(minLevel{Handler: logger.Handler(), min: slog.LevelWarn}))
	return logger
}

// minLevel passes on only records at min or above.
type minLevel struct {
	slog.Handler
	min slog.Level
}

// Enabled reports whether l reaches both min and the wrapped handler's level.
func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

// WithAttrs keeps the floor on the derived handler.
func (h minLevel) WithAttrs(attrs []slog.Attr) slog.Handler {
	return minLevel{Handler: h.Handler.WithAttrs(attrs), min: h.min}
}

// WithGroup keeps the floor on the derived handler.
func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{Handler: h.Handler.WithGroup(name), min: h.min}
}

func cmdServe(ctx context.Context, args []string, stderr io.Writer, env []string) error {
	fs, path := newFlags("serve", stderr)
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(*path, env)
	if err != nil {
		return err
	}
	logger := newLogger(cfg, stderr)
	tuneGC(cfg, env, logger)
	a, err := app.New(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer a.Close()
	// Each hash's argon2id arena is freed before its slot hashes again, so
	// hashing holds about one arena per slot (runtime.go, issue 20 point 4).
	a.Hasher.SetCollectAfterHash(true)
	if err := a.Bootstrap(ctx); err != nil {
		return err
	}
	// Every replica delivers the mail outbox; claims keep them apart.
	outboxCtx, stopOutbox := context.WithCancel(context.WithoutCancel(ctx))
	outboxDone := make(chan struct{})
	go func() { defer close(outboxDone); a.RunOutbox(outboxCtx) }()
	defer func() { stopOutbox(); <-outboxDone }()
	// Every replica also purges expired rows now and then.
	janitorCtx, stopJanitor := context.WithCancel(context.WithoutCancel(ctx))
	janitorDone := make(chan struct{})
	go func() { defer close(janitorDone); a.RunJanitor(janitorCtx) }()
	defer func() { stopJanitor(); <-janitorDone }()

	// Every replica logs the audit chains' heads now and then, so they are
	// kept outside the database (audit verify --head).
	headsCtx, stopHeads := context.WithCancel(context.WithoutCancel(ctx))
	headsDone := make(chan struct{})
	go func() { defer close(headsDone); a.RunAuditHeadLog(headsCtx) }()
	defer func() { stopHeads(); <-headsDone }()

	// Memory grown under load goes back to the system when traffic stops.
	idle := newIdleRelease(idleReleaseAfter, a.Store.CloseIdleConns)
	idleCtx, stopIdle := context.WithCancel(context.WithoutCancel(ctx))
	defer stopIdle()
	go idle.run(idleCtx)

	srv := &http.Server{
		Handler:           idle.wrap(a.Handler),
		ReadHeaderTimeout: cfg.Server.ReadHeaderTimeout,
		ReadTimeout:       cfg.Server.ReadTimeout,
		WriteTimeout:      cfg.Server.WriteTimeout,
		IdleTimeout:       cfg.Server.IdleTimeout,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          nil,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	ln, err := net.Listen("tcp", cfg.Server.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s (server.listen): %w", cfg.Server.Listen, err)
	}
	ln = &closeOnceListener{Listener: ln}
	if srv.TLSConfig, err = serverTLS(cfg.Server); err != nil {
		_ = ln.Close()
		return err
	}
	summary := []any{"addr", ln.Addr().String(), "public_url", cfg.Server.PublicURL,
		"database", string(a.Store.Engine()), "tls", cfg.Server.TLSEnabled(), "version", versionString()}
	if warning := passkeyWarning(cfg, a.Passkeys() != nil); warning != "" {
		// Said on the summary line, where a person looks, not only in the
		// warning logged while starting.
		logger.WarnContext(ctx, "frontdesk listening", append(summary, "passkeys", "off", "warning", warning)...)
	} else {
		logger.InfoContext(ctx, "frontdesk listening", append(summary, "passkeys", "on")...)
	}

	errc := make(chan error, 1)
	go func() {
		if srv.TLSConfig != nil {
			errc <- srv.ServeTLS(ln, "", "") // certificates are in TLSConfig
			return
		}
		errc <- srv.Serve(ln)
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down: finishing requests in flight", "timeout", cfg.Server.ShutdownTimeout.String())
	// Refuse new connections before answers in flight say Connection: close
	// (see closeOnceListener).
	_ = ln.Close()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.Server.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	// Forgot-password requests answered but not yet worked.
	if err := a.Onboarding.Close(shutdownCtx); err != nil {
		logger.Warn("shutdown: queued password reset requests not finished", "err", err)
	}
	logger.Info("stopped")
	return nil
}

func cmdMigrate(ctx context.Context, args []string, stdout, stderr io.Writer, env []string) error {
	fs, path := newFlags("migrate", stderr)
	if err := parse(fs, args); err != nil {
		return err
	}
	st, err := openStore(ctx, *path, env, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	v, err := st.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "database schema is at version %d\n", v)
	return nil
}

func cmdPractice(ctx context.Context, args []string, stdout, stderr io.Writer, env []string) error {
	if len(args) > 0 && args[0] == "presets" {
		return cmdPracticePresets(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "list" {
		return cmdPracticeList(ctx, args[1:], stdout, stderr, env)
	}
	if len(args) > 0 && args[0] == "sso" {
		return cmdPracticeSSO(ctx, args[1:], stdout, stderr, env)
	}
	if len(args) > 0 && args[0] == "policy" {
		return cmdPracticePolicy(ctx, args[1:], stdout, stderr, env)
	}
	if len(args) == 0 || args[0] != "create" {
		return usageError{msg: "practice: expected a subcommand: create, list, policy, presets or sso"}
	}
	fs, path := newFlags("practice create", stderr)
	slug := fs.String("slug", "", "the practice's URL name, e.g. sunrise-therapy (required)")
	name := fs.String("name", "", "the practice's display name (required)")
	ownerEmail := fs.String("owner-email", "", "the owner's email address (required)")
	ownerName := fs.String("owner-name", "", "the owner's name (optional)")
	asJSON := fs.Bool("json", false, "print one JSON object: practice_id, owner_id, setup_url, expires_at")
	preset := fs.String("preset", "", "role preset `P` to install; frontdesk practice presets lists them (default "+roles.DefaultPreset+")")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if err := requireFlags("practice create", flagValue{"slug", *slug}, flagValue{"name", *name},
		flagValue{"owner-email", *ownerEmail}); err != nil {
		return err
	}
	a, err := openApp(ctx, *path, env, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	created, err := a.Accounts.CreatePractice(ctx, account.NewPractice{Slug: *slug, Name: *name,
		OwnerEmail: *ownerEmail, OwnerName: *ownerName, Preset: *preset}, account.Meta{RequestID: "cli"})
	var invalid *account.InvalidInputError
	switch {
	case errors.As(err, &invalid):
		return usageError{msg: "practice create: " + invalid.Error()}
	case errors.Is(err, account.ErrPracticeExists):
		return fmt.Errorf("practice create: a practice with slug %q already exists; choose another slug", *slug)
	case err != nil:
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		return enc.Encode(struct {
			PracticeID string    `json:"practice_id"`
			OwnerID    string    `json:"owner_id"`
			SetupURL   string    `json:"setup_url"`
			ExpiresAt  time.Time `json:"expires_at"`
		}{created.PracticeID, created.OwnerID, created.SetupURL, created.ExpiresAt})
	}
	fmt.Fprintf(stdout, "Created practice %q (%s).\n", *slug, created.PracticeID)
	fmt.Fprintf(stdout, "Owner %s: send them this setup link (it works once, until %s):\n\n  %s\n",
		*ownerEmail, created.ExpiresAt.Local().Format("Mon 2 Jan 2006 15:04 MST"), created.SetupURL)
	if created.MailErr != nil {
		fmt.Fprintf(stdout, "\nThe setup email could not be sent (%v); give the link to the owner yourself.\n", created.MailErr)
	}
	return nil
}

func versionString() string {
	v := "(devel)"
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		v = bi.Main.Version
	}
	return fmt.Sprintf("frontdesk %s %s %s/%s", v, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
