package enforce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Offline verification accepts a token until its exp: a token revoked at
// frontdesk (RFC 7009), or whose sign-in ended there (logout, password
// change, deactivation, emergency access ended, a replayed code), keeps
// working in an app for the rest of its lifetime (oidc.access_token_ttl, 5
// minutes by default, at most 1 hour). Config.Introspection closes that
// window down to a cache TTL of the app's choosing: every token is also
// checked with frontdesk's RFC 7662 introspection endpoint, and the answer
// is remembered for at most the TTL.

// Errors of the liveness check; test for them with errors.Is.
var (
	// ErrTokenRevoked: frontdesk no longer considers the token active. It
	// wraps ErrInvalidToken.
	ErrTokenRevoked = fmt.Errorf("%w: frontdesk reports the token inactive (revoked or signed out)", ErrInvalidToken)
	// ErrLivenessUnavailable: frontdesk's introspection endpoint could not
	// be asked; the token is not accepted (the check fails closed).
	ErrLivenessUnavailable = errors.New("enforce: frontdesk cannot be asked whether the token is still live")
)

// MaxIntrospectionCacheTTL bounds Introspection.CacheTTL.
const MaxIntrospectionCacheTTL = 30 * time.Second

// Introspection turns on the liveness check (see Config.Introspection).
type Introspection struct {
	// URL is frontdesk's introspection endpoint; default Issuer +
	// "/oauth2/introspect".
	URL string
	// ClientID and ClientSecret are the app's confidential client
	// credentials (sent with HTTP Basic). frontdesk answers only about
	// tokens issued to, or for, the calling client.
	ClientID     string
	ClientSecret string
	// CacheTTL is how long an "active" answer is trusted: the longest a
	// token revoked at frontdesk is still accepted by this app. Default
	// 10 s; at most MaxIntrospectionCacheTTL (30 s). Negative asks frontdesk on
	// every call. An "inactive" answer is final and kept until the token
	// expires.
	CacheTTL time.Duration
}

// liveEntry is a remembered introspection answer.
type liveEntry struct {
	active bool
	until  time.Time
}

// liveness asks frontdesk whether tokens are still active and remembers the
// answers.
type liveness struct {
	cfg    Introspection
	client *http.Client
	now    func() time.Time
	size   int

	mu    sync.RWMutex
	cache map[string]liveEntry
}

func newLiveness(cfg Config) (*liveness, error) {
	in := *cfg.Introspection
	if in.ClientID == "" || in.ClientSecret == "" {
		return nil, errors.New("enforce: Introspection needs the app's ClientID and ClientSecret")
	}
	if in.URL == "" {
		in.URL = cfg.Issuer + "/oauth2/introspect"
	}
	switch {
	case in.CacheTTL == 0:
		in.CacheTTL = 10 * time.Second
	case in.CacheTTL > MaxIntrospectionCacheTTL:
		return nil, fmt.Errorf("enforce: Introspection.CacheTTL %s is longer than %s", in.CacheTTL, MaxIntrospectionCacheTTL)
	}
	size := cfg.CacheSize
	if size <= 0 {
		size = 10000
	}
	return &liveness{cfg: in, client: cfg.HTTPClient, now: cfg.Now, size: size, cache: map[string]liveEntry{}}, nil
}

// check returns nil if frontdesk reports token (whose verified claims are c)
// active, or answered so less than CacheTTL ago.
func (l *liveness) check(ctx context.Context, token string, c *Claims) error {
	now := l.now()
	l.mu.RLock()
	e, ok := l.cache[token]
	l.mu.RUnlock()
	if ok && now.Before(e.until) {
		if !e.active {
			return ErrTokenRevoked
		}
		return nil
	}
	active, err := l.introspect(ctx, token)
	if err != nil {
		return err
	}
	if active && l.cfg.CacheTTL < 0 {
		return nil
	}
	// An inactive answer is final: kept until the token expires anyway.
	e = liveEntry{active: active, until: c.Expiry}
	if until := now.Add(l.cfg.CacheTTL); active && until.Before(e.until) {
		e.until = until
	}
	l.mu.Lock()
	if len(l.cache) >= l.size {
		for k, old := range l.cache { // drop stale entries, or all if none is
			if !now.Before(old.until) {
				delete(l.cache, k)
			}
		}
		if len(l.cache) >= l.size {
			clear(l.cache)
		}
	}
	l.cache[token] = e
	l.mu.Unlock()
	if !active {
		return ErrTokenRevoked
	}
	return nil
}

// introspect asks frontdesk (RFC 7662) whether token is active.
func (l *liveness) introspect(ctx context.Context, token string) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.cfg.URL,
		strings.NewReader(url.Values{"token": {token}, "token_type_hint": {"access_token"}}.Encode()))
	if err != nil {
		return false, fmt.Errorf("%w: %w", ErrLivenessUnavailable, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	// RFC 6749 §2.3.1: the credentials are form-encoded before Basic.
	req.SetBasicAuth(url.QueryEscape(l.cfg.ClientID), url.QueryEscape(l.cfg.ClientSecret))
	resp, err := l.client.Do(req)
	if err != nil {
		return false, fmt.Errorf("%w: %w", ErrLivenessUnavailable, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("%w: introspection answered %d", ErrLivenessUnavailable, resp.StatusCode)
	}
	var out struct {
		Active bool `json:"active"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&out); err != nil {
		return false, fmt.Errorf("%w: %w", ErrLivenessUnavailable, err)
	}
	return out.Active, nil
}
