// Package httpserver composes frontdesk's HTTP surface: the practice pages
// (login, setup, signed-in home, change password, logout), health and readiness
// probes, Prometheus metrics and static assets, wrapped in the middleware every
// request passes through (panic recovery, request IDs, structured access logs,
// metrics, security headers, body limits and cross-origin protection for forms).
//
// Handlers are thin: they parse and bound input, call the account service, and
// turn its errors into pages that say what to do next.
package httpserver

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/oidc"
	"github.com/frontdeskhq/frontdesk/identity/onboarding"
	"github.com/frontdeskhq/frontdesk/identity/passkeys"
	"github.com/frontdeskhq/frontdesk/identity/requestid"
	"github.com/frontdeskhq/frontdesk/identity/roles"
	"github.com/frontdeskhq/frontdesk/identity/sso"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/lockout"
	"github.com/frontdeskhq/frontdesk/templates"
)

// SessionCookie is the name of the browser-session cookie. The __Host- prefix
// makes browsers insist on Secure, Path=/ and no Domain, so no subdomain can
// plant or read it.
const SessionCookie = "__Host-frontdesk_session"

// Pinger reports whether the database answers; /readyz uses it.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Deps are what the server needs.
type Deps struct {
	Accounts *account.Service
	// Onboarding serves invitations, reset links and the console's
	// invitation and temporary-password actions.
	Onboarding *onboarding.Service
	DB         Pinger
	Pages      *templates.Pages
	Logger     *slog.Logger
	// Registry receives the HTTP metrics and is served at /metrics.
	Registry *prometheus.Registry
	// PublicURL is the externally visible base URL (its origin is trusted for
	// form posts; https turns on HSTS).
	PublicURL string
	// MaxBodyBytes bounds every request body.
	MaxBodyBytes int64
	// TrustedProxies are the peers whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	// SessionLifetime is the cookie's Max-Age (the server enforces the real
	// idle and absolute limits).
	SessionLifetime time.Duration
	// OIDC is the OpenID provider, mounted at the discovery path and under
	// /oauth2/; nil serves no provider.
	OIDC *oidc.Provider
	// Passkeys registers passkeys and logs in with them; nil serves no
	// passkey pages or endpoints.
	Passkeys *passkeys.Service
	// SSO offers the practices' upstream OpenID providers (single sign-on);
	// nil serves no SSO pages.
	SSO *sso.Service
	// AdminAPI builds the admin REST API mounted under /api/v1/, given the
	// server's request-metadata function; nil serves no API.
	AdminAPI func(meta func(*http.Request) account.Meta) (http.Handler, error)
	// AdminStore and AdminRoles serve the administrator's console at
	// /p/{practice}/admin; either nil serves no console.
	AdminStore *store.Store
	AdminRoles *roles.Service
	// StartLimiter bounds how many passkey ceremonies and SSO sign-ins one
	// client address may begin; nil sets no limit.
	StartLimiter *lockout.StartLimiter
}

// Server is frontdesk's HTTP handler.
type Server struct {
	d        Deps
	mux      *http.ServeMux
	handler  http.Handler
	patterns []string // registered patterns (Routes)
	https    bool
	csrf     *http.CrossOriginProtection
	metrics  *httpMetrics
	api      http.Handler
	// secHeaders are the headers every response carries (securityHeaders).
	secHeaders headerSet
	// codeLabels are the metrics labels of status codes 100–599 (codeLabel).
	codeLabels [500]string
}

type httpMetrics struct {
	duration *prometheus.HistogramVec
}

// New builds the server and its routes.
func New(d Deps) (*Server, error) {
	pub, err := url.Parse(d.PublicURL)
	if err != nil || pub.Host == "" {
		return nil, fmt.Errorf("httpserver: public URL %q is not absolute", d.PublicURL)
	}
	d.Logger = slog.New(requestid.Handler(d.Logger.Handler()))
	s := &Server{d: d, mux: http.NewServeMux(), https: pub.Scheme == "https"}
	s.secHeaders = newSecurityHeaders(s.https)
	for i := range s.codeLabels {
		s.codeLabels[i] = strconv.Itoa(100 + i)
	}
	s.metrics = &httpMetrics{duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "frontdesk_http_request_duration_seconds",
		Help:    "HTTP request latency by route pattern, method and status code.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
	}, []string{"route", "method", "code"})}
	if err := d.Registry.Register(s.metrics.duration); err != nil {
		return nil, fmt.Errorf("httpserver: metrics: %w", err)
	}
	s.csrf = http.NewCrossOriginProtection()
	if err := s.csrf.AddTrustedOrigin(pub.Scheme + "://" + pub.Host); err != nil {
		return nil, fmt.Errorf("httpserver: trusted origin: %w", err)
	}
	s.csrf.SetDenyHandler(http.HandlerFunc(s.crossOriginDenied))
	if d.AdminAPI != nil {
		if s.api, err = d.AdminAPI(s.meta); err != nil {
			return nil, fmt.Errorf("httpserver: admin API: %w", err)
		}
	}
	s.routes()
	s.handler = s.recoverer(s.withRequestID(s.accessLog(s.securityHeaders(s.limitBody(s.mux)))))
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

func (s *Server) routes() {
	s.handle("GET /healthz", http.HandlerFunc(s.healthz))
	s.handle("GET /readyz", http.HandlerFunc(s.readyz))
	s.handle("GET /metrics", promhttp.HandlerFor(s.d.Registry, promhttp.HandlerOpts{}))
	s.handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(templates.Static())))
	s.handle("GET /{$}", http.HandlerFunc(s.index))

	s.handle("GET /p/{practice}/login", http.HandlerFunc(s.loginPage))
	s.handleForm("POST /p/{practice}/login", http.HandlerFunc(s.loginSubmit))
	s.handle("GET /p/{practice}/{$}", http.HandlerFunc(s.home))
	s.handle("GET /p/{practice}/logout", http.HandlerFunc(s.logoutPage))
	s.handleForm("POST /p/{practice}/logout", http.HandlerFunc(s.logout))
	s.handle("GET /p/{practice}/password", http.HandlerFunc(s.passwordPage))
	s.handleForm("POST /p/{practice}/password", http.HandlerFunc(s.passwordSubmit))
	s.handle("GET /p/{practice}/setup", s.linkFormPage(s.setupForm()))
	s.handleForm("POST /p/{practice}/setup", s.linkFormSubmit(s.setupForm()))
	s.oidcRoutes()
	s.adminRoutes()
	s.consoleRoutes()
	s.onboardingRoutes()
	s.passkeyRoutes()
	s.ssoRoutes()
	s.passkeyStepRoutes()
}

// handle registers h under pattern, measuring it under that pattern's name.
func (s *Server) handle(pattern string, h http.Handler) {
	s.patterns = append(s.patterns, pattern)
	s.mux.Handle(pattern, s.measure(pattern, h))
}

// Routes lists the patterns of every route the server registered, in order
// (the admin API mounted under it is listed by adminapi.API.Routes): what
// the route classification test holds to its table of which routes give
// access.
func (s *Server) Routes() []string { return slices.Clone(s.patterns) }

// APIRoutes lists the admin API's route patterns (adminapi.API.Routes), or
// none without an admin API.
func (s *Server) APIRoutes() []string {
	if r, ok := s.api.(interface{ Routes() []string }); ok {
		return r.Routes()
	}
	return nil
}

// handleForm registers a state-changing form endpoint behind cross-origin
// protection.
func (s *Server) handleForm(pattern string, h http.Handler) {
	s.handle(pattern, s.requireBrowserOrigin(s.csrf.Handler(h)))
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := s.d.DB.Ping(ctx); err != nil {
		s.log(r).WarnContext(ctx, "readiness check failed", "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		if errors.Is(err, store.ErrWritesFailing) {
			_, _ = w.Write([]byte("database cannot save changes (disk full or read-only)\n"))
			return
		}
		_, _ = w.Write([]byte("database unreachable\n"))
		return
	}
	_, _ = w.Write([]byte("ok\n"))
}

func (s *Server) index(w http.ResponseWriter, r *http.Request) {
	s.message(w, r, http.StatusOK, nil, "frontdesk",
		"To log in, open your practice's login link (it looks like /p/your-practice/login). Your practice administrator can give it to you.", nil)
}

// withRequestID gives every request an ID, returned in X-Request-ID, carried
// in the context and in every log line about the request.
func (s *Server) withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b [12]byte
		_, _ = rand.Read(b[:])
		id := hex.EncodeToString(b[:])
		w.Header()["X-Request-Id"] = []string{id} // Header.Set("X-Request-ID", id) without canonicalising per request
		next.ServeHTTP(w, r.WithContext(requestid.With(r.Context(), id)))
	})
}

// log returns the server's logger; log with r.Context() so the line carries
// the request ID.
func (s *Server) log(*http.Request) *slog.Logger { return s.d.Logger }

func requestID(r *http.Request) string { return requestid.From(r.Context()) }

// meta describes the request for the audit trail.
func (s *Server) meta(r *http.Request) account.Meta {
	return account.Meta{ClientAddr: s.clientAddr(r).String(), UserAgent: r.UserAgent(), RequestID: requestID(r)}
}

// clientAddr is the connecting peer, or — only when that peer is a trusted
// proxy — the nearest untrusted address in X-Forwarded-For. An unparsable
// entry stops the walk at the last address that could be trusted.
func (s *Server) clientAddr(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	addr := ap.Addr().Unmap()
	if !s.trusted(addr) {
		return addr
	}
	var hops []string
	for _, h := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(h, ",")...)
	}
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return addr
		}
		addr = hop.Unmap()
		if !s.trusted(addr) {
			return addr
		}
	}
	return addr
}

func (s *Server) trusted(a netip.Addr) bool {
	for _, p := range s.d.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
