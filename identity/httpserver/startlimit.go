package httpserver

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/lockout"
)

// Messages of a refused start. Neither says anything about an account.
const (
	msgStartsThrottled = "Too many sign-in attempts were started from your network. Wait %s seconds, then try again."
	msgStartsDown      = "Signing in is not possible for a moment. Please try again in a minute."
)

// startVerdict is what the start limit decided for one request.
type startVerdict struct {
	status int    // 0: go ahead
	retry  string // Retry-After, in seconds
	msg    string
}

// checkStart counts a start of kind (lockout.Start*) from the request's
// client address. A refused start must store nothing: the caller answers with
// the verdict and returns. When the counter cannot be reached the start is
// refused (503), as password logins are.
func (s *Server) checkStart(r *http.Request, kind string) startVerdict {
	err := s.d.StartLimiter.Allow(r.Context(), kind, s.clientAddr(r).String())
	if err == nil {
		return startVerdict{}
	}
	if te, ok := errors.AsType[*lockout.ThrottledError](err); ok {
		retry := te.RetryAfterSeconds()
		s.log(r).InfoContext(r.Context(), "start refused: address over the start limit", "kind", kind, "retry_after", retry)
		return startVerdict{status: http.StatusTooManyRequests, retry: retry, msg: fmt.Sprintf(msgStartsThrottled, retry)}
	}
	s.log(r).ErrorContext(r.Context(), "start refused: the start counter failed", "kind", kind, "err", err)
	return startVerdict{status: http.StatusServiceUnavailable, retry: "30", msg: msgStartsDown}
}

// allowStartJSON is checkStart for the JSON endpoints: false means it has
// answered (429 "too_many_starts" or 503 "unavailable", with Retry-After).
func (s *Server) allowStartJSON(w http.ResponseWriter, r *http.Request, kind string) bool {
	v := s.checkStart(r, kind)
	if v.status == 0 {
		return true
	}
	w.Header().Set("Retry-After", v.retry)
	code := "too_many_starts"
	if v.status == http.StatusServiceUnavailable {
		code = "unavailable"
	}
	jsonError(w, v.status, code, v.msg)
	return false
}

// allowStartPage is checkStart for the pages: false means it has answered
// with a message page and Retry-After.
func (s *Server) allowStartPage(w http.ResponseWriter, r *http.Request, p store.Practice, kind string) bool {
	v := s.checkStart(r, kind)
	if v.status == 0 {
		return true
	}
	w.Header().Set("Retry-After", v.retry)
	title := "Too many sign-in attempts"
	if v.status == http.StatusServiceUnavailable {
		title = "Signing in is not possible right now"
	}
	s.message(w, r, v.status, viewPractice(p), title, v.msg, loginLink(p.Slug))
	return false
}
