package httpserver

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/oidc"
	"github.com/frontdeskhq/frontdesk/identity/passkeys"
	"github.com/frontdeskhq/frontdesk/lockout"
)

// Messages of the passkey endpoints. None says whether an account exists.
const (
	msgPasskeyRefused = "That passkey can't be used to log in here. Try another passkey, " +
		"or log in with your email and password."
	msgPasskeyExpired = "This passkey request expired or was already used. Try again."
	msgPasskeyReauth  = "For your security, confirm your password before adding or removing a passkey."
	msgPasskeyInvalid = "Your device's answer could not be verified. Try again, or use another device."
	msgUsePasskey     = "Your practice requires a passkey or single sign-on for your role, and you already have a passkey. " +
		"Log in with it; if you no longer have it, ask your practice administrator."
)

// passkeyCSP is the page CSP of pages that load /static/passkeys.js: the
// default policy plus same-origin script and fetch (still no inline script).
const passkeyCSP = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

type passkeyView struct {
	ID       string
	Name     string
	Created  string
	LastUsed string
	Synced   bool
}

// passkeyRoutes mounts the passkey pages and JSON endpoints. Every POST,
// JSON or form, passes the same cross-origin protection as the forms.
func (s *Server) passkeyRoutes() {
	if s.d.Passkeys == nil {
		return
	}
	s.handle("GET /p/{practice}/passkeys", http.HandlerFunc(s.passkeysPage))
	s.handleForm("POST /p/{practice}/passkeys/reauth", http.HandlerFunc(s.passkeysReauth))
	s.handleForm("POST /p/{practice}/passkeys/{id}/rename", http.HandlerFunc(s.passkeyRename))
	s.handleForm("POST /p/{practice}/passkeys/{id}/remove", http.HandlerFunc(s.passkeyRemove))
	s.handleForm("POST /p/{practice}/passkeys/register/begin", http.HandlerFunc(s.passkeyRegisterBegin))
	s.handleForm("POST /p/{practice}/passkeys/register/finish", http.HandlerFunc(s.passkeyRegisterFinish))
	s.handleForm("POST /p/{practice}/passkeys/login/begin", http.HandlerFunc(s.passkeyLoginBegin))
	s.handleForm("POST /p/{practice}/passkeys/login/finish", http.HandlerFunc(s.passkeyLoginFinish))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func jsonError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]string{"error": code, "message": msg})
}

func (s *Server) jsonInternal(w http.ResponseWriter, r *http.Request, err error) {
	s.log(r).ErrorContext(r.Context(), "request failed", "err", err)
	jsonError(w, http.StatusInternalServerError, "internal", "Something went wrong on our side. Please try again in a moment.")
}

// jsonPrincipal is signedIn for the JSON endpoints: 401 instead of a redirect.
func (s *Server) jsonPrincipal(w http.ResponseWriter, r *http.Request) (account.Principal, bool) {
	// A session the login policy restricts may register a first passkey
	// (the passkey service refuses it any other).
	pr, err := s.d.Accounts.AuthenticateEnrolment(r.Context(), r.PathValue("practice"), s.sessionToken(r))
	switch {
	case errors.Is(err, account.ErrNoSession), errors.Is(err, account.ErrPracticeNotFound):
		jsonError(w, http.StatusUnauthorized, "signed_out", "You are not logged in. Log in again, then retry.")
		return account.Principal{}, false
	case err != nil:
		s.jsonInternal(w, r, err)
		return account.Principal{}, false
	}
	return pr, true
}

func (s *Server) passkeyData(r *http.Request, pr account.Principal) (pageData, error) {
	data := pageData{Practice: viewPractice(pr.Practice), Member: viewMember(pr.Member),
		NeedsReauth: s.d.Passkeys.NeedsReauth(pr), PasskeysEnabled: true}
	pks, err := s.d.Passkeys.List(r.Context(), pr)
	if err != nil {
		return pageData{}, err
	}
	for _, pk := range pks {
		v := passkeyView{ID: pk.ID, Name: pk.Name, Created: pk.CreatedAt.Format("2 Jan 2006"), Synced: pk.BackupState}
		if !pk.LastUsedAt.IsZero() {
			v.LastUsed = pk.LastUsedAt.Format("2 Jan 2006 15:04 MST")
		}
		data.Passkeys = append(data.Passkeys, v)
	}
	switch r.URL.Query().Get("done") {
	case "added":
		data.Notice = "Your passkey was added. Next time, choose \u201cLog in with a passkey\u201d on the login page."
	case "renamed":
		data.Notice = "The passkey was renamed."
	case "removed":
		data.Notice = "The passkey was removed. It can no longer be used to log in here."
	case "confirmed":
		data.Notice = "Password confirmed. You can now add or remove passkeys."
	}
	return data, nil
}

func (s *Server) renderPasskeys(w http.ResponseWriter, r *http.Request, pr account.Principal, status int, errMsg string) {
	data, err := s.passkeyData(r, pr)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	if errMsg != "" {
		data.Error, data.Notice = errMsg, ""
	}
	s.render(w, r, status, "passkeys", data)
}

func (s *Server) passkeysPage(w http.ResponseWriter, r *http.Request) {
	pr, ok := s.signedIn(w, r)
	if !ok {
		return
	}
	s.renderPasskeys(w, r, pr, http.StatusOK, "")
}

func (s *Server) passkeysReauth(w http.ResponseWriter, r *http.Request) {
	s.reauthenticate(w, r, "passkeys", s.renderPasskeys, "That password is not right. Type the password you log in with.")
}

// reauthenticate handles the "confirm your password" form of an account page
// (passkeys, linked sign-in accounts) whose changes need a recent login: on
// success it returns to /p/{practice}/{page}?done=confirmed; otherwise render
// shows the page again with what to do next.
func (s *Server) reauthenticate(w http.ResponseWriter, r *http.Request, page string,
	render func(http.ResponseWriter, *http.Request, account.Principal, int, string), wrongPassword string) {
	pr, ok := s.signedIn(w, r)
	if !ok || !s.parseForm(w, r, viewPractice(pr.Practice)) {
		return
	}
	_, err := s.d.Accounts.Reauthenticate(r.Context(), pr, r.PostForm.Get("password"), s.meta(r))
	switch {
	case err == nil:
		http.Redirect(w, r, "/p/"+pr.Practice.Slug+"/"+page+"?done=confirmed", http.StatusSeeOther)
	case errors.Is(err, account.ErrWrongPassword):
		render(w, r, pr, http.StatusUnauthorized, wrongPassword)
	case errors.Is(err, account.ErrBusy):
		w.Header().Set("Retry-After", "1")
		render(w, r, pr, http.StatusServiceUnavailable, msgBusy)
	case errors.Is(err, account.ErrUnavailable):
		w.Header().Set("Retry-After", "30")
		render(w, r, pr, http.StatusServiceUnavailable, msgUnavailable)
	case errors.Is(err, account.ErrNoSession):
		http.Redirect(w, r, "/p/"+pr.Practice.Slug+"/login", http.StatusSeeOther)
	default:
		s.internalError(w, r, err)
	}
}

func (s *Server) passkeyRename(w http.ResponseWriter, r *http.Request) {
	pr, ok := s.signedIn(w, r)
	if !ok || !s.parseForm(w, r, viewPractice(pr.Practice)) {
		return
	}
	err := s.d.Passkeys.Rename(r.Context(), pr, r.PathValue("id"), r.PostForm.Get("name"), s.meta(r))
	switch {
	case err == nil:
		http.Redirect(w, r, "/p/"+pr.Practice.Slug+"/passkeys?done=renamed", http.StatusSeeOther)
	case errors.Is(err, passkeys.ErrInvalidName):
		s.renderPasskeys(w, r, pr, http.StatusBadRequest, "A passkey name must be 1 to 64 characters. Type a shorter name.")
	case errors.Is(err, passkeys.ErrNotFound):
		s.renderPasskeys(w, r, pr, http.StatusNotFound, "That passkey is not yours or was already removed.")
	default:
		s.internalError(w, r, err)
	}
}

func (s *Server) passkeyRemove(w http.ResponseWriter, r *http.Request) {
	pr, ok := s.signedIn(w, r)
	if !ok || !s.parseForm(w, r, viewPractice(pr.Practice)) {
		return
	}
	err := s.d.Passkeys.Remove(r.Context(), pr, r.PathValue("id"), s.meta(r))
	switch {
	case err == nil:
		http.Redirect(w, r, "/p/"+pr.Practice.Slug+"/passkeys?done=removed", http.StatusSeeOther)
	case errors.Is(err, account.ErrReauthRequired):
		s.renderPasskeys(w, r, pr, http.StatusForbidden, msgPasskeyReauth)
	case errors.Is(err, passkeys.ErrNotFound):
		s.renderPasskeys(w, r, pr, http.StatusNotFound, "That passkey is not yours or was already removed.")
	default:
		s.internalError(w, r, err)
	}
}

func (s *Server) passkeyRegisterBegin(w http.ResponseWriter, r *http.Request) {
	pr, ok := s.jsonPrincipal(w, r)
	if !ok {
		return
	}
	if !s.allowStartJSON(w, r, lockout.StartPasskeyRegister) {
		return
	}
	opts, token, err := s.d.Passkeys.BeginRegistration(r.Context(), pr)
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, map[string]any{"ceremony": token, "options": opts})
	case errors.Is(err, account.ErrStrongLoginRequired):
		jsonError(w, http.StatusForbidden, "use_passkey", msgUsePasskey)
	case errors.Is(err, account.ErrReauthRequired):
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "reauth", "message": msgPasskeyReauth,
			"redirect": "/p/" + pr.Practice.Slug + "/passkeys"})
	case errors.Is(err, passkeys.ErrTooMany):
		jsonError(w, http.StatusConflict, "too_many", "You have as many passkeys as allowed. Remove one you no longer use first.")
	case errors.Is(err, account.ErrNoSession):
		jsonError(w, http.StatusUnauthorized, "signed_out", "You are not logged in. Log in again, then retry.")
	default:
		s.jsonInternal(w, r, err)
	}
}

func (s *Server) passkeyRegisterFinish(w http.ResponseWriter, r *http.Request) {
	pr, ok := s.jsonPrincipal(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	_, err := s.d.Passkeys.FinishRegistration(r.Context(), pr, q.Get("ceremony"), q.Get("name"), r.Body, s.meta(r))
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, map[string]string{"redirect": "/p/" + pr.Practice.Slug + "/passkeys?done=added"})
	case errors.Is(err, account.ErrStrongLoginRequired):
		jsonError(w, http.StatusForbidden, "use_passkey", msgUsePasskey)
	case errors.Is(err, passkeys.ErrCeremonyInvalid):
		jsonError(w, http.StatusBadRequest, "expired", msgPasskeyExpired)
	case errors.Is(err, passkeys.ErrInvalidName):
		jsonError(w, http.StatusBadRequest, "name", "A passkey name must be 1 to 64 characters. Type a shorter name.")
	case errors.Is(err, passkeys.ErrAlreadyRegistered):
		jsonError(w, http.StatusConflict, "exists", "This passkey is already registered. Use it to log in, or add a different one.")
	case errors.Is(err, passkeys.ErrTooMany):
		jsonError(w, http.StatusConflict, "too_many", "You have as many passkeys as allowed. Remove one you no longer use first.")
	case errors.Is(err, passkeys.ErrRejected):
		jsonError(w, http.StatusBadRequest, "rejected", msgPasskeyInvalid)
	default:
		s.jsonInternal(w, r, err)
	}
}

func (s *Server) passkeyLoginBegin(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Email string `json:"email"`
	}
	if r.ContentLength != 0 {
		if err := json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&in); err != nil && !errors.Is(err, io.EOF) {
			jsonError(w, http.StatusBadRequest, "bad_request", "The request could not be read. Reload the page and try again.")
			return
		}
	}
	if !s.allowStartJSON(w, r, lockout.StartPasskeyLogin) {
		return
	}
	opts, token, err := s.d.Passkeys.BeginLogin(r.Context(), r.PathValue("practice"), in.Email)
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, map[string]any{"ceremony": token, "options": opts})
	case errors.Is(err, account.ErrPracticeNotFound):
		jsonError(w, http.StatusNotFound, "no_practice", "There is no practice at this address. Check the login link your practice gave you.")
	default:
		s.jsonInternal(w, r, err)
	}
}

func (s *Server) passkeyLoginFinish(w http.ResponseWriter, r *http.Request) {
	slug := r.PathValue("practice")
	pr, token, err := s.d.Passkeys.FinishLogin(r.Context(), slug, r.URL.Query().Get("ceremony"), r.Body, s.meta(r))
	switch {
	case err == nil:
	case errors.Is(err, account.ErrInvalidCredentials):
		jsonError(w, http.StatusUnauthorized, "refused", msgPasskeyRefused)
		return
	case errors.Is(err, passkeys.ErrCeremonyInvalid):
		jsonError(w, http.StatusBadRequest, "expired", msgPasskeyExpired)
		return
	case errors.Is(err, account.ErrPracticeNotFound):
		jsonError(w, http.StatusNotFound, "no_practice", "There is no practice at this address. Check the login link your practice gave you.")
		return
	default:
		s.jsonInternal(w, r, err)
		return
	}
	s.signIn(w, r, token)
	writeJSON(w, http.StatusOK, map[string]string{"redirect": s.afterPasskeyLogin(r, pr)})
}

// afterPasskeyLogin is where the browser goes after a passkey login: a
// pending auth request is continued exactly as after a password login (its
// code redirect when it can be completed now; otherwise the login page of the
// request, which, now signed in, shows why not), else the practice's page the
// login page was opened for (loginNext), else the account page.
func (s *Server) afterPasskeyLogin(r *http.Request, pr account.Principal) string {
	id := authRequestParam(r)
	if s.d.OIDC == nil || id == "" {
		if next := loginNext(pr.Practice.Slug, r.URL.Query().Get("next")); next != "" {
			return next
		}
		return "/p/" + pr.Practice.Slug + "/"
	}
	next, err := s.d.OIDC.CompleteLogin(r.Context(), r, id, pr)
	if err == nil {
		return next
	}
	var perm *oidc.PermissionError
	if !errors.As(err, &perm) && !errors.Is(err, oidc.ErrAuthRequestInvalid) {
		s.log(r).ErrorContext(r.Context(), "continuing the auth request after a passkey login failed", "err", err)
	}
	return "/p/" + pr.Practice.Slug + "/login?authRequest=" + url.QueryEscape(id)
}

// decoratePasskeys shows the passkey controls when passkeys are on, and lets
// the pages that use them (login, passkeys) load their script.
func (s *Server) decoratePasskeys(w http.ResponseWriter, page string, data *pageData) {
	if s.d.Passkeys == nil {
		return
	}
	switch page {
	case "home":
		data.PasskeysEnabled = true
	case "login", "passkeys":
		data.PasskeysEnabled = true
		w.Header().Set("Content-Security-Policy", passkeyCSP)
	case "addpasskey":
		data.PasskeysEnabled = true
		csp := passkeyCSP
		if data.Step != nil && data.Step.formOrigin != "" {
			csp = strings.Replace(csp, "form-action 'self'", "form-action 'self' "+data.Step.formOrigin, 1)
		}
		w.Header().Set("Content-Security-Policy", csp)
	}
}
