package httpserver

import (
	"errors"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"
)

// statusWriter remembers the status code and size of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) code() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

// recoverer turns a panic into a 500 page and a log line with the stack, so one
// bad request never takes the process down.
func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
					panic(v)
				}
				s.log(r).ErrorContext(r.Context(), "panic serving request", "panic", v, "stack", string(debug.Stack()))
				http.Error(w, "Something went wrong on our side. Please try again in a moment.", http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// accessLog writes one structured line per request. It logs the path but never
// the query string, which can carry a link token.
func (s *Server) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if !s.log(r).Enabled(r.Context(), slog.LevelInfo) {
			return // spare building the line's attributes (client address and all) per request
		}
		s.log(r).InfoContext(r.Context(), "request",
			"method", r.Method, "path", r.URL.Path, "status", sw.code(), "bytes", sw.bytes,
			"duration_ms", float64(time.Since(start).Microseconds())/1000, "client", s.clientAddr(r).String())
	})
}

// measure records latency under the route pattern (bounded label values: never
// the raw path). It counts the status through the access log's statusWriter
// when the request came through it (every request served by Server does),
// instead of wrapping the writer a second time.
func (s *Server) measure(pattern string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw, ok := w.(*statusWriter)
		if !ok {
			sw = &statusWriter{ResponseWriter: w}
		}
		next.ServeHTTP(sw, r)
		s.metrics.duration.WithLabelValues(pattern, methodLabel(r.Method), s.codeLabel(sw.code())).
			Observe(time.Since(start).Seconds())
	})
}

// methodLabel is the metrics label of a request method: the method itself
// for the methods frontdesk serves, "other" for any other. A route
// registered without a method (the provider's /oauth2/, the admin API's
// /api/v1/) is reached with whatever method a client sends, and each
// distinct label value would add a series the registry keeps for the
// process's lifetime.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete,
		http.MethodOptions:
		return m
	}
	return "other"
}

// codeLabel is the metrics label of a status code: its decimal digits, made
// once per server for the codes net/http sends (100–599) rather than
// formatted per request.
func (s *Server) codeLabel(code int) string {
	if code >= 100 && code < 100+len(s.codeLabels) {
		return s.codeLabels[code-100]
	}
	return strconv.Itoa(code)
}

// securityHeaders sets headers every response carries: a strict CSP (no inline
// script or style), no framing, no MIME sniffing, no referrer (pages can carry
// link tokens in their URL), no caching of pages, and HSTS when served on https.
// The names and values are fixed when the server is built (newSecurityHeaders);
// each response gets its own copy of the values in one allocation, so a
// handler may still replace or add to any of them (decorateLogin widens the
// CSP).
func (s *Server) securityHeaders(next http.Handler) http.Handler {
	hs := s.secHeaders
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		vals := make([]string, len(hs.values))
		copy(vals, hs.values)
		for i, name := range hs.names {
			h[name] = vals[i : i+1 : i+1] // Header.Set, the name already canonical
		}
		next.ServeHTTP(w, r)
	})
}

// headerSet is a fixed list of response headers: canonical names and their
// values, index for index.
type headerSet struct{ names, values []string }

// newSecurityHeaders is the headers securityHeaders sets, HSTS only on https.
func newSecurityHeaders(https bool) headerSet {
	var hs headerSet
	add := func(name, value string) {
		hs.names = append(hs.names, http.CanonicalHeaderKey(name))
		hs.values = append(hs.values, value)
	}
	add("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "+
		"form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	add("X-Content-Type-Options", "nosniff")
	add("X-Frame-Options", "DENY")
	add("Referrer-Policy", "no-referrer")
	add("Cross-Origin-Opener-Policy", "same-origin")
	if https {
		add("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
	}
	return hs
}

// limitBody bounds every request body.
func (s *Server) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > s.d.MaxBodyBytes && isAPIPath(r) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			_, _ = w.Write([]byte(`{"error":"too_large","message":"The request body is too large."}` + "\n"))
			return
		}
		if r.ContentLength > s.d.MaxBodyBytes {
			s.message(w, r, http.StatusRequestEntityTooLarge, nil, "Request too large",
				"What was sent is larger than this page accepts. Go back and try again with shorter entries.", nil)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, s.d.MaxBodyBytes)
		next.ServeHTTP(w, r)
	})
}

// requireBrowserOrigin refuses a state-changing request that carries neither
// Sec-Fetch-Site nor Origin. Every current browser sends one of them on a form
// post; http.CrossOriginProtection alone lets such requests through, treating
// them as non-browser clients. Scripts that post our forms send a same-origin
// Origin header, as the contract asks.
func (s *Server) requireBrowserOrigin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Sec-Fetch-Site") == "" && r.Header.Get("Origin") == "" {
			s.crossOriginDenied(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) crossOriginDenied(w http.ResponseWriter, r *http.Request) {
	s.log(r).WarnContext(r.Context(), "cross-origin form post refused",
		"origin", r.Header.Get("Origin"), "sec_fetch_site", r.Header.Get("Sec-Fetch-Site"))
	s.message(w, r, http.StatusForbidden, nil, "This form could not be accepted",
		"The form was sent from another site or without the information your browser normally adds. "+
			"Open the page again from this site's address and submit it there.", nil)
}
