package httpserver

import (
	"net/http"
	"strings"
)

// adminRoutes mounts the admin REST API (identity/adminapi) under /api/v1/.
// It authenticates with bearer tokens, never cookies, so it needs no
// cross-origin protection.
func (s *Server) adminRoutes() {
	if s.api != nil {
		s.handle("/api/v1/", s.api)
	}
}

// isAPIPath reports whether r is for the JSON API, whose errors are JSON
// rather than pages.
func isAPIPath(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/api/") }
