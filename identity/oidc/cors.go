package oidc

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Cross-origin resource sharing. The provider library answers every origin
// with credentials allowed; frontdesk replaces that with a policy per
// endpoint, and never allows credentials (cookies) cross-origin:
//
//   - discovery and the key set are public documents: any origin may read
//     them, without credentials (Access-Control-Allow-Origin: *);
//   - the token, userinfo and revocation endpoints answer only the origins
//     of public (browser) clients, derived from their registered redirect
//     URIs, without credentials: a single-page app exchanges its code,
//     refreshes, reads userinfo and revokes with its own tokens, never with
//     frontdesk's cookies;
//   - every other endpoint (authorize and its callback, end_session,
//     introspection) sends no CORS headers: it is visited by the browser
//     itself or called by app back ends.

// corsOriginsTTL is how long the registered public apps' origins are
// reused; a change made through this process takes effect at once.
const corsOriginsTTL = AppCacheTTL

// corsPaths are the endpoints with a CORS policy, by path.
var (
	corsPublicPaths = map[string]bool{DiscoveryPath: true, PathPrefix + "keys": true}
	corsClientPaths = map[string]string{ // path -> methods
		PathPrefix + "token":    "POST",
		PathPrefix + "revoke":   "POST",
		PathPrefix + "userinfo": "GET, POST",
	}
)

// originSet caches the origins of the registered public apps.
type originSet struct {
	mu      sync.Mutex
	origins map[string]bool
	fetched time.Time
}

func (o *originSet) forget() {
	o.mu.Lock()
	o.origins = nil
	o.mu.Unlock()
}

// originOf is the origin (scheme://host[:port]) of an http(s) URI, "" for
// anything else (a native app's custom scheme has no web origin).
func originOf(uri string) string {
	u, err := url.Parse(uri)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return ""
	}
	return strings.ToLower(u.Scheme + "://" + u.Host)
}

// publicOrigin reports whether origin is the origin of a redirect URI of a
// public client: configured (no secret) or registered (not confidential).
func (p *Provider) publicOrigin(ctx context.Context, origin string) bool {
	origin = strings.ToLower(origin)
	if origin == "" || origin == "null" {
		return false
	}
	for _, c := range p.clients {
		if c.secretHash != nil || c.registered {
			continue // confidential (configured clients only live in p.clients)
		}
		for _, u := range c.cfg.RedirectURIs {
			if originOf(u) == origin {
				return true
			}
		}
	}
	now := p.d.Now()
	o := &p.corsOrigins
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.origins == nil || now.Sub(o.fetched) >= corsOriginsTTL || now.Before(o.fetched) {
		uris, err := p.d.Store.PublicAppRedirectURIs(ctx)
		if err != nil {
			p.d.Logger.WarnContext(ctx, "cors: listing public apps failed", "err", err)
			return false
		}
		o.origins = map[string]bool{}
		for _, u := range uris {
			if og := originOf(u); og != "" {
				o.origins[og] = true
			}
		}
		o.fetched = now
	}
	return o.origins[origin]
}

// cors applies the policy above in front of the provider library's
// handler (whose own CORS handler is switched off).
func (p *Provider) cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
		path := r.URL.Path
		methods, clientPath := corsClientPaths[path]
		switch {
		case corsPublicPaths[path]:
			w.Header().Add("Vary", "Origin")
			if origin != "" {
				w.Header().Set("Access-Control-Allow-Origin", "*")
			}
			if preflight {
				w.Header().Set("Access-Control-Allow-Methods", "GET, HEAD")
				w.Header().Set("Access-Control-Max-Age", "600")
				w.WriteHeader(http.StatusNoContent)
				return
			}
		case clientPath:
			w.Header().Add("Vary", "Origin")
			allowed := len(origin) <= 2048 && p.publicOrigin(r.Context(), origin)
			if allowed {
				w.Header().Set("Access-Control-Allow-Origin", origin)
			}
			if preflight {
				if allowed {
					w.Header().Set("Access-Control-Allow-Methods", methods)
					w.Header().Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
					w.Header().Set("Access-Control-Max-Age", "600")
				}
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}
