// Package apptest runs a whole frontdesk for tests, in the style of
// net/http/httptest: New assembles it through identity/app (the same wiring
// `frontdesk serve` uses, not a copy of it), serves it, and closes it when
// the test ends. It has helpers to create a practice, add members with
// roles, sign in as a browser and get an access token through the real
// authorization-code flow.
//
// Because the kit goes through app.New, moving a service from one package
// to another does not touch it. Tests of a single service that need an
// injected clock use that service's own kit (account/accounttest,
// passkeys/passkeystest) instead.
//
// Only external test packages (package x_test) may import it: it imports
// identity/app, which imports nearly everything.
package apptest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/app"
	"github.com/frontdeskhq/frontdesk/identity/config"
	"github.com/frontdeskhq/frontdesk/identity/password"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
	"github.com/frontdeskhq/frontdesk/invites/smtptest"
)

// The registered apps every Frontdesk has: "console" may call the admin API,
// "ehr" may not; both use ClientSecret and RedirectURI.
const (
	ConsoleClient = "console"
	EHRClient     = "ehr"
	ClientSecret  = "console-secret-0123456789abcdef"
	RedirectURI   = "https://console.example/cb"
	// Password is the password of every owner CreatePractice makes and
	// every member AddMember adds.
	Password = "seven lanterns over a quiet harbour"
	// MasterKey is the OpenID provider's key-encryption key in tests.
	MasterKey = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
)

// Option changes what New assembles.
type Option func(*options)

type options struct {
	engine    store.Engine
	base      *config.Config
	configure []func(*config.Config)
	smtp      bool
	ln        net.Listener
	log       io.Writer
	logLevel  slog.Level
}

// Engine stores data on engine (a fresh database from storetest); the
// default is SQLite in the test's temporary directory.
func Engine(engine store.Engine) Option { return func(o *options) { o.engine = engine } }

// Base assembles cfg as it is (a configuration file a test loaded, say)
// instead of the kit's test configuration: its public URL, data directory,
// database and clients are the caller's. SMTP, Configure and Log still apply.
func Base(cfg *config.Config) Option { return func(o *options) { o.base = cfg } }

// Configure edits the configuration after the kit's settings and before
// validation (add clients, change the lockout threshold, …).
func Configure(edit func(*config.Config)) Option {
	return func(o *options) { o.configure = append(o.configure, edit) }
}

// SMTP sends mail through a real SMTP server (invites/smtptest, Frontdesk.SMTP)
// and runs the outbox worker; without it mail is written to files in the
// data directory and nothing delivers the outbox.
func SMTP() Option { return func(o *options) { o.smtp = true } }

// Listen serves plain HTTP on ln at http://localhost:PORT (a secure context
// for a browser's WebAuthn) instead of a TLS test server.
func Listen(ln net.Listener) Option { return func(o *options) { o.ln = ln } }

// Log writes frontdesk's log to w at level (the default discards it).
func Log(w io.Writer, level slog.Level) Option {
	return func(o *options) { o.log, o.logLevel = w, level }
}

// Frontdesk is a running frontdesk.
type Frontdesk struct {
	T      testing.TB
	App    *app.App
	Config *config.Config
	// URL is the public URL and issuer: https://127.0.0.1:PORT (TLS test
	// server) or http://localhost:PORT (Listen).
	URL string
	// Server is the TLS test server; nil with Listen.
	Server *httptest.Server
	// SMTP is the mail server; nil without the SMTP option.
	SMTP *smtptest.Server
	// Ctx is a context whose OpenID client (go-oidc, x/oauth2) trusts the
	// server's certificate.
	Ctx context.Context
	// IDs maps the email of every owner and member the kit made to the
	// member's id.
	IDs map[string]string

	mu sync.Mutex
	rp *gooidc.Provider
}

// lateHandler lets the server start (its URL is the issuer) before the app
// that needs the URL exists.
type lateHandler struct {
	mu sync.RWMutex
	h  http.Handler
}

func (l *lateHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	l.mu.RLock()
	h := l.h
	l.mu.RUnlock()
	h.ServeHTTP(w, r)
}

// New assembles a frontdesk with app.New, serves it and stops it at the
// end of the test.
func New(t testing.TB, opts ...Option) *Frontdesk {
	t.Helper()
	o := options{engine: store.SQLite}
	for _, opt := range opts {
		opt(&o)
	}
	f := &Frontdesk{T: t, IDs: map[string]string{}}
	late := &lateHandler{}
	client := http.DefaultClient
	var stopServer func()
	if o.ln != nil {
		f.URL = fmt.Sprintf("http://localhost:%d", o.ln.Addr().(*net.TCPAddr).Port)
		srv := &http.Server{Handler: late, ReadHeaderTimeout: 5 * time.Second}
		served := make(chan error, 1)
		go func() { served <- srv.Serve(o.ln) }()
		stopServer = sync.OnceFunc(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = srv.Shutdown(ctx)
			<-served
		})
	} else {
		f.Server = httptest.NewTLSServer(late)
		stopServer = sync.OnceFunc(f.Server.Close)
		f.URL = f.Server.URL
		client = f.Server.Client()
	}
	t.Cleanup(stopServer)

	cfg := o.base
	if cfg == nil {
		cfg = testConfig(t, o.engine, f.URL)
	}
	if o.smtp {
		f.SMTP = smtptest.Start(t, smtptest.Options{})
		cfg.Mail.Transport, cfg.Mail.SMTPHost, cfg.Mail.SMTPPort, cfg.Mail.SMTPTLS = "smtp", "127.0.0.1", f.SMTP.Port(), "none"
		cfg.Mail.PollInterval, cfg.Mail.RetryBackoff = 100*time.Millisecond, time.Second
	}
	for _, edit := range o.configure {
		edit(cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("apptest: configuration: %v", err)
	}
	f.Config = cfg
	logger := app.NewLogger(cfg.Log, io.Discard)
	if o.log != nil {
		logger = slog.New(slog.NewTextHandler(o.log, &slog.HandlerOptions{Level: o.logLevel}))
	}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, cfg, logger)
	if err != nil {
		cancel()
		t.Fatalf("apptest: %v", err)
	}
	f.App = a
	outboxDone := make(chan struct{})
	if o.smtp {
		go func() { defer close(outboxDone); a.RunOutbox(ctx) }()
	} else {
		close(outboxDone)
	}
	// The server stops first (no request reaches a closed app), then the
	// outbox worker, then the app.
	t.Cleanup(func() {
		stopServer()
		cancel()
		<-outboxDone
		_ = a.Close()
	})
	late.mu.Lock()
	late.h = a.Handler
	late.mu.Unlock()
	f.Ctx = gooidc.ClientContext(context.Background(), client)
	return f
}

// testConfig is the kit's configuration: the defaults with a fresh
// database, no demo practice, the two registered apps and a quiet log.
func testConfig(t testing.TB, engine store.Engine, publicURL string) *config.Config {
	cfg := config.Default()
	cfg.Data.Dir = t.TempDir()
	if engine != store.SQLite {
		_, dsn := storetest.DSN(t, engine)
		cfg.Database.URL = dsn
	}
	cfg.Server.PublicURL = publicURL
	cfg.Bootstrap.Demo = false
	cfg.OIDC.MasterKey = MasterKey
	cfg.Log.Level = "error"
	cfg.Clients = []config.Client{
		{ID: ConsoleClient, Secret: ClientSecret, RedirectURIs: []string{RedirectURI}, Scopes: []string{"openid", "offline_access"}},
		{ID: EHRClient, Secret: ClientSecret, RedirectURIs: []string{RedirectURI}, Scopes: []string{"openid"}},
	}
	cfg.AdminAPI.Clients = []string{ConsoleClient}
	return cfg
}

// RP is the OpenID provider as a relying party discovers it.
func (f *Frontdesk) RP() *gooidc.Provider {
	f.T.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.rp == nil {
		rp, err := gooidc.NewProvider(f.Ctx, f.URL)
		if err != nil {
			f.T.Fatal(err)
		}
		f.rp = rp
	}
	return f.rp
}

// Practice returns the practice slug.
func (f *Frontdesk) Practice(slug string) store.Practice {
	f.T.Helper()
	p, err := f.App.Store.PracticeBySlug(f.Ctx, slug)
	if err != nil {
		f.T.Fatal(err)
	}
	return p
}

// CreatePractice creates the practice slug ("Practice <slug>", default
// roles) whose owner (ownerEmail, "Owner <slug>") has completed setup with
// Password, and returns the practice.
func (f *Frontdesk) CreatePractice(slug, ownerEmail string) store.Practice {
	f.T.Helper()
	return f.CreatePracticeWith(account.NewPractice{Slug: slug, Name: "Practice " + slug, OwnerEmail: ownerEmail,
		OwnerName: "Owner " + slug}, Password)
}

// CreatePracticeWith is CreatePractice with every field of the new practice
// (a role preset, names) and the password the owner chooses at setup.
func (f *Frontdesk) CreatePracticeWith(np account.NewPractice, ownerPassword string) store.Practice {
	f.T.Helper()
	created, err := f.App.Accounts.CreatePractice(f.Ctx, np, account.Meta{})
	if err != nil {
		f.T.Fatal(err)
	}
	u, err := url.Parse(created.SetupURL)
	if err != nil {
		f.T.Fatal(err)
	}
	if _, _, err := f.App.Accounts.CompleteSetup(f.Ctx, np.Slug, u.Query().Get("token"), ownerPassword, ownerPassword,
		account.Meta{}); err != nil {
		f.T.Fatal(err)
	}
	f.IDs[np.OwnerEmail] = created.OwnerID
	return f.Practice(np.Slug)
}

// AddMember inserts an active member of practice slug with Password and
// the given roles, and returns its id ("m-<local part>-<slug>").
func (f *Frontdesk) AddMember(slug, email, name string, roleKeys []string) string {
	f.T.Helper()
	p := f.Practice(slug)
	hash, err := password.NewHasher(password.DefaultParams(), 1).Hash(f.Ctx, Password)
	if err != nil {
		f.T.Fatal(err)
	}
	id := "m-" + strings.Split(email, "@")[0] + "-" + slug
	now := time.Now()
	if err := f.App.Store.CreateMember(f.Ctx, store.Member{ID: id, PracticeID: p.ID, Email: email, DisplayName: name,
		Status: store.StatusActive, Roles: roleKeys, PasswordHash: hash, PasswordChangedAt: now, CreatedAt: now}); err != nil {
		f.T.Fatal(err)
	}
	f.IDs[email] = id
	return id
}
