// Package adminapi is frontdesk's administrator REST API, mounted under
// /api/v1/practices/{practice}/ and described by docs/openapi.yaml.
//
// Every call carries a bearer access token that frontdesk itself issued to one
// of the clients listed in admin_api.clients (verified offline with
// identity/enforce against frontdesk's own keys) and still live: not revoked,
// its grant not revoked, its browser session, member and any emergency
// access it carries not ended (store.CheckAccessToken, the check userinfo
// and introspection make). The token's practice must be
// the path's practice — another practice's data answers 404, exactly like a
// practice that does not exist — and every call is checked against the
// caller's current permissions (roles.Service.Allowed), not the permissions
// frozen into the token minutes ago. Domain services repeat their own checks.
package adminapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/enforce"
	"github.com/frontdeskhq/frontdesk/identity/onboarding"
	"github.com/frontdeskhq/frontdesk/identity/problem"
	"github.com/frontdeskhq/frontdesk/identity/roles"
	"github.com/frontdeskhq/frontdesk/identity/sso"
	"github.com/frontdeskhq/frontdesk/identity/store"
)

// Verifier verifies an access token; *enforce.Verifier is one.
type Verifier interface {
	Verify(ctx context.Context, token string) (*enforce.Claims, error)
}

// Deps are the API's collaborators.
type Deps struct {
	Store    *store.Store
	Accounts *account.Service
	// Onboarding invites members and issues temporary passwords.
	Onboarding *onboarding.Service
	Roles      *roles.Service
	// Verifiers accept the access tokens of the clients allowed to call the
	// API (one per audience); a token any of them accepts is authenticated.
	Verifiers []Verifier
	Logger    *slog.Logger
	// Meta describes a request for the audit trail (client address behind
	// trusted proxies, user agent, request ID).
	Meta func(r *http.Request) account.Meta
	Now  func() time.Time
	// MaxBodyBytes bounds request bodies; 0 means 64 KiB.
	MaxBodyBytes int64
	// SSO manages the practices' single sign-on providers; nil serves no
	// /sso-providers endpoints.
	SSO *sso.Service
	// Apps registers the practice's own OpenID clients; nil answers the
	// apps endpoints 404.
	Apps AppRegistry
	// Passkeys revokes a member's passkeys; nil answers that endpoint 404.
	Passkeys PasskeyRevoker
}

// API is the admin API's http.Handler.
type API struct {
	d        Deps
	mux      *http.ServeMux
	patterns []string // registered patterns (Routes)
}

// Routes lists the pattern of every admin API route, in order: what the
// route classification test holds to its table of which routes give access.
func (a *API) Routes() []string { return slices.Clone(a.patterns) }

// Prefix is where the API is mounted.
const Prefix = "/api/v1/"

// New returns the API.
func New(d Deps) (*API, error) {
	if d.Store == nil || d.Accounts == nil || d.Onboarding == nil || d.Roles == nil || d.Logger == nil || d.Meta == nil {
		return nil, errors.New("adminapi: Store, Accounts, Onboarding, Roles, Logger and Meta are required")
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.MaxBodyBytes <= 0 {
		d.MaxBodyBytes = 64 << 10
	}
	a := &API{d: d, mux: http.NewServeMux()}
	a.routes()
	return a, nil
}

func (a *API) routes() {
	const p = "/api/v1/practices/{practice}"
	a.handle("GET "+p+"/members", "", a.listMembers)
	a.handle("GET "+p+"/members/{id}", "", a.getMember)
	a.handle("PUT "+p+"/members/{id}/roles", roles.PermAssign, a.setMemberRoles)
	a.handle("POST "+p+"/members/{id}/unlock", roles.PermUnlock, a.unlockMember)
	a.handle("POST "+p+"/members/{id}/temporary-password", roles.PermResetPasswords, a.idempotent(a.temporaryPassword))
	a.handle("POST "+p+"/members/{id}/deactivate", roles.PermManageMembers, a.idempotent(a.deactivateMember))
	a.handle("PATCH "+p+"/members/{id}", roles.PermManageMembers, a.updateMemberProfile)
	a.handle("PUT "+p+"/members/{id}/supervisors", roles.PermAssign, a.setMemberSupervisors)
	a.handle("POST "+p+"/members/{id}/reactivate", roles.PermManageMembers, a.idempotent(a.reactivateMember))
	a.handle("POST "+p+"/members/{id}/revoke-passkeys", roles.PermManageMembers, a.revokeMemberPasskeys)
	a.handle("GET "+p+"/apps", roles.PermViewSettings, a.listApps)
	a.handle("POST "+p+"/apps", roles.PermEditSettings, a.idempotent(a.registerApp))
	a.handle("POST "+p+"/apps/{client_id}/rotate-secret", roles.PermEditSettings, a.idempotent(a.rotateAppSecret))
	a.handle("DELETE "+p+"/apps/{client_id}", roles.PermEditSettings, a.removeApp)
	a.handle("PATCH "+p+"/apps/{client_id}", roles.PermEditSettings, a.updateApp)
	a.handle("GET "+p+"/invitations", roles.PermManageMembers, a.listInvitations)
	a.handle("POST "+p+"/invitations", roles.PermManageMembers, a.idempotent(a.createInvitation))
	a.handle("POST "+p+"/invitations/{id}/resend", roles.PermManageMembers, a.idempotent(a.resendInvitation))
	a.handle("POST "+p+"/invitations/{id}/revoke", roles.PermManageMembers, a.revokeInvitation)
	a.handle("GET "+p+"/roles", "", a.listRoles)
	a.handle("GET "+p+"/presets", "", a.listPresets)
	a.handle("POST "+p+"/roles", roles.PermDefine, a.idempotent(a.createRole))
	a.handle("PUT "+p+"/roles/{key}", roles.PermDefine, a.updateRole)
	a.handle("PUT "+p+"/toggles/{key}", roles.PermDefine, a.setToggle)
	a.loginPolicyRoutes(p)
	a.settingsRoutes(p)
	a.memberAccessRoutes(p)
	a.handle("GET "+p+"/audit-events", roles.PermAudit, a.listAudit)
	a.handle("GET "+p+"/audit-events/export", roles.PermAudit, a.exportAudit)
	a.ssoRoutes(p)
	a.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "There is no such API endpoint; see docs/openapi.yaml.")
	})
}

// ServeHTTP implements http.Handler.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	a.mux.ServeHTTP(w, r)
}

// caller is an authenticated request's actor, already bound to the path's
// practice.
type caller struct {
	claims   *enforce.Claims
	practice store.Practice
	memberID string
	meta     account.Meta
}

type handlerFunc func(w http.ResponseWriter, r *http.Request, c *caller) error

// handle registers h behind authentication, the practice check and — when
// perm is set — a check of the caller's current permissions.
func (a *API) handle(pattern, perm string, h handlerFunc) {
	a.patterns = append(a.patterns, pattern)
	a.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		c, ok := a.authenticate(w, r)
		if !ok {
			return
		}
		if perm != "" && !a.require(w, r, c, perm) {
			return
		}
		if err := h(w, r, c); err != nil {
			a.fail(w, r, err)
		}
	})
}

// authenticate verifies the bearer token and binds it to the path's practice.
func (a *API) authenticate(w http.ResponseWriter, r *http.Request) (*caller, bool) {
	raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || strings.TrimSpace(raw) == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="frontdesk"`)
		writeError(w, http.StatusUnauthorized, "unauthorized", "Send an access token from frontdesk: Authorization: Bearer <token>.")
		return nil, false
	}
	var (
		claims *enforce.Claims
		err    = enforce.ErrInvalidToken
	)
	for _, v := range a.d.Verifiers {
		if claims, err = v.Verify(r.Context(), strings.TrimSpace(raw)); err == nil {
			break
		}
	}
	if err != nil {
		if errors.Is(err, enforce.ErrKeysUnavailable) {
			a.d.Logger.ErrorContext(r.Context(), "admin api: signing keys unavailable", "err", err)
			writeError(w, http.StatusServiceUnavailable, "unavailable", "Tokens cannot be checked right now; try again shortly.")
			return nil, false
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="frontdesk", error="invalid_token"`)
		writeError(w, http.StatusUnauthorized, "invalid_token",
			"The access token is not valid (expired, malformed, or not issued to an admin client); get a new one.")
		return nil, false
	}
	// Signature and expiry are checked offline (and cached per token);
	// whether the token is still live is read from the database on every
	// call, as userinfo and introspection do, so a revocation, a logout or
	// a deactivation committed by any replica is refused at once.
	ref := store.AccessTokenRef{JTI: claims.ID, SessionID: claims.SessionID, PracticeID: claims.PracticeID,
		Subject: claims.Subject, ClientID: claims.ClientID, IssuedAt: claims.IssuedAt, Elevated: !claims.ElevatedUntil.IsZero()}
	if err := a.d.Store.CheckAccessToken(r.Context(), ref, a.d.Now()); err != nil {
		if store.IsUnavailable(err) {
			writeError(w, http.StatusServiceUnavailable, "unavailable", "Tokens cannot be checked right now; try again shortly.")
			return nil, false
		}
		if !errors.Is(err, store.ErrTokenNotLive) {
			a.fail(w, r, err)
			return nil, false
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="frontdesk", error="invalid_token"`)
		writeError(w, http.StatusUnauthorized, "invalid_token",
			"The access token was revoked or its sign-in has ended (logout, password change, deactivation); sign in again.")
		return nil, false
	}
	slug := r.PathValue("practice")
	if claims.Practice == "" || claims.Practice != slug || claims.Subject == "" {
		writeError(w, http.StatusNotFound, "not_found", "There is no such practice.")
		return nil, false
	}
	p, err := a.d.Store.PracticeBySlug(r.Context(), slug)
	if err != nil || p.ID != claims.PracticeID {
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			a.fail(w, r, err)
			return nil, false
		}
		writeError(w, http.StatusNotFound, "not_found", "There is no such practice.")
		return nil, false
	}
	return &caller{claims: claims, practice: p, memberID: claims.Subject, meta: a.d.Meta(r)}, true
}

// require answers 403 unless the caller currently holds perm.
func (a *API) require(w http.ResponseWriter, r *http.Request, c *caller, perm string) bool {
	ok, err := a.d.Roles.Allowed(r.Context(), c.practice.ID, c.memberID, perm)
	if err != nil {
		a.fail(w, r, err)
		return false
	}
	if !ok {
		writeError(w, http.StatusForbidden, "forbidden", "You do not hold the "+perm+" permission in this practice; ask an administrator.")
		return false
	}
	return true
}

// allowed reports whether the caller currently holds perm.
func (a *API) allowed(ctx context.Context, c *caller, perm string) (bool, error) {
	return a.d.Roles.Allowed(ctx, c.practice.ID, c.memberID, perm)
}

// apiError is an error with its HTTP answer.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func badRequest(msg string) error { return &apiError{http.StatusBadRequest, "invalid_request", msg} }

// fail maps a domain error to its JSON answer; anything unexpected is logged
// and answered 500 without detail.
func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	var (
		ae       *apiError
		invalid  *account.InvalidInputError
		tooLarge *http.MaxBytesError
		p        *problem.Error
	)
	switch {
	case errors.As(err, &ae):
		writeError(w, ae.status, ae.code, ae.message)
	case errors.As(err, &tooLarge):
		writeError(w, http.StatusRequestEntityTooLarge, "too_large", "The request body is too large.")
	case errors.As(err, &invalid):
		writeError(w, http.StatusBadRequest, "invalid_request", invalid.Error())
	case errors.As(err, &p) && p.Kind != problem.Internal && p.Kind != problem.Unavailable:
		// A refusal the services explain; a database outage below wins over
		// the services' own "unavailable".
		writeProblem(w, p)
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", "There is no such member or invitation in this practice.")
	case store.IsWriteUnavailable(err):
		// A full or read-only disk: nothing was saved; the operator must
		// free space or make the database writable.
		a.d.Logger.ErrorContext(r.Context(), "admin api request failed", "cause",
			"database cannot save: "+store.WriteFailCause(err), "err", err, "path", r.URL.Path)
		w.Header().Set("Retry-After", "60")
		writeError(w, http.StatusServiceUnavailable, "unavailable",
			"The service is temporarily unable to save changes, so nothing was changed; retry in a few minutes.")
	case store.IsUnavailable(err):
		a.d.Logger.WarnContext(r.Context(), "admin api request failed", "cause", "database unavailable", "err", err,
			"path", r.URL.Path)
		w.Header().Set("Retry-After", "5")
		writeError(w, http.StatusServiceUnavailable, "unavailable",
			"The service cannot reach its database right now and nothing was changed; try again shortly.")
	case errors.As(err, &p) && p.Kind == problem.Unavailable:
		writeProblem(w, p)
	default:
		a.d.Logger.ErrorContext(r.Context(), "admin api request failed", "err", err, "path", r.URL.Path)
		writeError(w, http.StatusInternalServerError, "internal", "Something went wrong on our side; try again, and tell the operator if it persists.")
	}
}

// kindStatus is the HTTP status of a problem of kind k: the admin API's one
// mapping from the domain's error kinds to statuses.
func kindStatus(k problem.Kind) int {
	switch k {
	case problem.Invalid:
		return http.StatusBadRequest
	case problem.Forbidden:
		return http.StatusForbidden
	case problem.NotFound:
		return http.StatusNotFound
	case problem.Conflict:
		return http.StatusConflict
	case problem.Unavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// writeProblem writes a problem's answer: its kind's status, its code (or
// the kind's) and its public text.
func writeProblem(w http.ResponseWriter, p *problem.Error) {
	code, msg := p.Code, p.Public
	switch {
	case p.Kind == problem.Forbidden && p.Reason == "":
		msg = "You are not allowed to do this in this practice."
	case p.Kind == problem.Forbidden && p.Public == p.Reason && startsUpper(p.Reason):
		// A refusal worded as a whole sentence (the delegation model's "You
		// can't give the Biller role; ask the practice owner.").
		msg = p.Reason
	case p.Kind == problem.Forbidden:
		// The services explain refusals with permission names, never secrets.
		msg = "Not allowed: " + p.Reason + "."
	case msg == "":
		msg = "The request was refused; check it and try again."
	}
	if code == "" {
		code = map[problem.Kind]string{problem.Invalid: "invalid_request", problem.Forbidden: "forbidden",
			problem.NotFound: "not_found", problem.Conflict: "conflict", problem.Unavailable: "unavailable"}[p.Kind]
	}
	writeError(w, kindStatus(p.Kind), code, msg)
}

func startsUpper(s string) bool { return s != "" && s[0] >= 'A' && s[0] <= 'Z' }

// writeError writes {"error": code, "message": text}.
func writeError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, map[string]string{"error": code, "message": message})
}

func mustJSON(v any) []byte {
	body, err := json.Marshal(v)
	if err != nil {
		return []byte(`{"error":"internal","message":"encoding failed"}`)
	}
	return append(body, '\n')
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status, body = http.StatusInternalServerError, []byte(`{"error":"internal","message":"encoding failed"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

// decode reads a bounded JSON body into v, refusing unknown fields.
func (a *API) decode(w http.ResponseWriter, r *http.Request, v any) error {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return &apiError{http.StatusUnsupportedMediaType, "unsupported_media_type", "Send the body as application/json."}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, a.d.MaxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return err
		}
		return badRequest("The body is not the expected JSON: " + err.Error())
	}
	if dec.More() {
		return badRequest("The body must hold one JSON object.")
	}
	return nil
}

// idempotent makes a creating call safe to retry: with an Idempotency-Key
// header, the first response is stored (with a hash of the request) and
// replayed for a repeat; reusing a key for a different request is refused.
func (a *API) idempotent(h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, c *caller) error {
		key := r.Header.Get("Idempotency-Key")
		if key == "" {
			return h(w, r, c)
		}
		if len(key) > 255 {
			return badRequest("The Idempotency-Key header is longer than 255 characters.")
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, a.d.MaxBodyBytes))
		if err != nil {
			return err
		}
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		sum := sha256.New()
		fmt.Fprintf(sum, "%s\x00%s\x00", r.Method, r.URL.Path)
		sum.Write(body)
		reqHash := hex.EncodeToString(sum.Sum(nil))
		prev, err := a.d.Store.ReserveIdempotencyKey(r.Context(), c.practice.ID, c.memberID, key, reqHash, a.d.Now())
		switch {
		case errors.Is(err, store.ErrIdempotencyInProgress):
			return &apiError{http.StatusConflict, "idempotency_in_progress", "A request with this Idempotency-Key is still being processed; retry shortly."}
		case err != nil:
			return err
		case prev != nil && prev.RequestHash != reqHash:
			return &apiError{http.StatusUnprocessableEntity, "idempotency_key_reused", "This Idempotency-Key was used for a different request; use a new key."}
		case prev != nil:
			w.Header().Set("Idempotent-Replayed", "true")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(prev.Status)
			_, _ = io.WriteString(w, prev.Body)
			return nil
		}
		rec := &recorder{ResponseWriter: w}
		herr := h(rec, r, c)
		ctx := context.WithoutCancel(r.Context())
		if herr != nil || rec.status >= 500 || rec.status == 0 {
			if err := a.d.Store.ReleaseIdempotencyKey(ctx, c.practice.ID, c.memberID, key); err != nil {
				a.d.Logger.ErrorContext(ctx, "admin api: release idempotency key", "err", err)
			}
			return herr
		}
		stored := rec.body.String()
		if rec.replay != nil {
			stored = string(rec.replay) // the answer without a secret shown once
		}
		if err := a.d.Store.CompleteIdempotencyKey(ctx, c.practice.ID, c.memberID, key, rec.status, stored); err != nil {
			a.d.Logger.ErrorContext(ctx, "admin api: store idempotent response", "err", err)
		}
		return nil
	}
}

// recorder copies what a handler writes so it can be stored.
type recorder struct {
	http.ResponseWriter
	status int
	body   strings.Builder
	// replay, when set, is stored for replays instead of body (an answer
	// that showed a secret once is replayed without it).
	replay []byte
}

func (r *recorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}

// actor is the caller as the account service's actor.
func (c *caller) actor() account.Actor { return account.Actor{MemberID: c.memberID} }

// rolesActor is the caller as the roles service's actor.
func (c *caller) rolesActor() roles.Actor {
	return roles.Actor{PracticeID: c.practice.ID, MemberID: c.memberID}
}

func (c *caller) rolesMeta() roles.Meta {
	return roles.Meta{ClientAddr: c.meta.ClientAddr, UserAgent: c.meta.UserAgent, RequestID: c.meta.RequestID}
}
