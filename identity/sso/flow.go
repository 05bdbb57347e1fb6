package sso

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/invites"
)

// Purposes of a flow.
const (
	// PurposeLogin logs a linked member in.
	PurposeLogin = "login"
	// PurposeInvite accepts an invitation and links the upstream identity.
	PurposeInvite = "invite"
	// PurposeLink links the upstream identity to the signed-in member.
	PurposeLink = "link"
)

// MaxParamLen bounds state, code and binding values taken from a request.
const MaxParamLen = 2048

// BeginRequest starts a sign-in at an upstream provider.
type BeginRequest struct {
	PracticeSlug string
	ProviderID   string
	Purpose      string
	// Binding is the browser's binding cookie value (the caller makes one
	// with NewBinding when the browser has none).
	Binding string
	// AuthRequest is the pending OpenID auth request to continue (login).
	AuthRequest string
	// Next is the practice's page a login returns to (login; "" for the
	// account page). The caller passes only a path of the practice's own
	// pages; it is kept with the flow, never sent to the upstream, and
	// comes back in Outcome.Next for the caller to check again.
	Next string
	// InvitationToken is the invitation being accepted (invite).
	InvitationToken string
	// Principal is the signed-in member (link).
	Principal *account.Principal
}

// NewBinding returns a fresh random browser-binding value for the cookie.
func (s *Service) NewBinding() (string, error) {
	v, _, err := invites.NewToken(s.d.Random)
	if err != nil {
		return "", fmt.Errorf("sso: binding: %w", err)
	}
	return v, nil
}

// ValidBinding bounds a binding cookie value.
func ValidBinding(v string) bool {
	if len(v) < 32 || len(v) > 64 {
		return false
	}
	for _, c := range v {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// upstreamProvider returns the discovered upstream (cached DiscoveryTTL).
// Discovery and the key set use the service's HTTP client (with its
// timeout), detached from the request's cancellation because go-oidc keeps
// the context for later key fetches.
func (s *Service) upstreamProvider(ctx context.Context, issuer string) (*gooidc.Provider, error) {
	now := s.d.Now()
	s.mu.Lock()
	c, ok := s.upstream[issuer]
	s.mu.Unlock()
	if ok && now.Sub(c.fetched) < s.cfg.DiscoveryTTL {
		return c.p, nil
	}
	p, err := gooidc.NewProvider(s.clientContext(context.WithoutCancel(ctx)), issuer)
	if err != nil {
		return nil, fmt.Errorf("%w: discovery of %s: %w", ErrUpstream, issuer, err)
	}
	s.mu.Lock()
	s.upstream[issuer] = cachedUpstream{p: p, fetched: now}
	s.mu.Unlock()
	return p, nil
}

func (s *Service) clientContext(ctx context.Context) context.Context {
	ctx = gooidc.ClientContext(ctx, s.http)
	return context.WithValue(ctx, oauth2.HTTPClient, s.http)
}

func (s *Service) oauthConfig(up *gooidc.Provider, p store.SSOProvider, slug, secret string) *oauth2.Config {
	return &oauth2.Config{ClientID: p.ClientID, ClientSecret: secret, Endpoint: up.Endpoint(),
		RedirectURL: s.CallbackURL(slug), Scopes: []string{gooidc.ScopeOpenID, "email", "profile"}}
}

// Begin stores a new flow and returns the upstream authorization URL to
// redirect the browser to (authorization code, PKCE S256, state, nonce).
// Errors: account.ErrPracticeNotFound, ErrProviderNotFound, account.ErrLinkInvalid
// (invite: the invitation is not usable), account.ErrReauthRequired (link:
// the login is not recent), ErrUpstream (discovery failed).
func (s *Service) Begin(ctx context.Context, req BeginRequest) (string, error) {
	pr, err := s.d.Accounts.Practice(ctx, req.PracticeSlug)
	if err != nil {
		return "", err
	}
	if !ValidBinding(req.Binding) || len(req.ProviderID) > 64 || len(req.AuthRequest) > 64 || len(req.Next) > MaxParamLen {
		return "", ErrFlowInvalid
	}
	p, err := s.d.Store.SSOProviderByID(ctx, pr.ID, req.ProviderID)
	if errors.Is(err, store.ErrNotFound) {
		return "", ErrProviderNotFound
	}
	if err != nil {
		return "", fmt.Errorf("sso: begin: %w", err)
	}
	now := s.d.Now()
	f := store.SSOFlow{BindingHash: invites.HashToken(req.Binding), PracticeID: pr.ID, ProviderID: p.ID,
		Purpose: req.Purpose, CreatedAt: now, ExpiresAt: now.Add(s.cfg.FlowTTL)}
	switch req.Purpose {
	case PurposeLogin:
		f.AuthRequest, f.Next = req.AuthRequest, req.Next
	case PurposeInvite:
		if _, err := s.d.Onboarding.OpenInvitation(ctx, pr.Slug, req.InvitationToken); err != nil {
			return "", err
		}
		f.InvitationTokenHash = invites.HashToken(req.InvitationToken)
	case PurposeLink:
		if req.Principal == nil || req.Principal.Practice.ID != pr.ID {
			return "", account.ErrNoSession
		}
		if err := s.d.Accounts.RequireRecentLogin(*req.Principal, s.cfg.ReauthWindow); err != nil {
			return "", err
		}
		f.MemberID, f.SessionID = req.Principal.Member.ID, req.Principal.Session.ID
	default:
		return "", fmt.Errorf("sso: unknown purpose %q", req.Purpose)
	}
	secret, err := s.open(p)
	if err != nil {
		return "", err
	}
	up, err := s.upstreamProvider(ctx, p.Issuer)
	if err != nil {
		s.d.Logger.WarnContext(ctx, "sso provider discovery failed", "provider", p.ID, "issuer", p.Issuer, "err", err)
		return "", err
	}
	state, stateHash, err := invites.NewToken(s.d.Random)
	if err != nil {
		return "", fmt.Errorf("sso: state: %w", err)
	}
	if f.Nonce, _, err = invites.NewToken(s.d.Random); err != nil {
		return "", fmt.Errorf("sso: nonce: %w", err)
	}
	f.CodeVerifier = oauth2.GenerateVerifier()
	if err := s.d.Store.CreateSSOFlow(ctx, stateHash, f); err != nil {
		return "", fmt.Errorf("sso: begin: %w", err)
	}
	s.prune(ctx, now)
	return s.oauthConfig(up, p, pr.Slug, secret).AuthCodeURL(state, oauth2.S256ChallengeOption(f.CodeVerifier),
		gooidc.Nonce(f.Nonce)), nil
}

// prune deletes expired flows now and then (best effort).
func (s *Service) prune(ctx context.Context, now time.Time) {
	if now.UnixNano()%16 != 0 {
		return
	}
	if _, err := s.d.Store.PruneSSOFlows(ctx, now); err != nil {
		s.d.Logger.WarnContext(ctx, "pruning sso flows failed", "err", err)
	}
}

// Callback is what the upstream sent back to the callback URL.
type Callback struct {
	PracticeSlug string
	State        string
	Code         string
	// Error is the upstream's error parameter, if any.
	Error   string
	Binding string
	// Principal is the browser's signed-in member, if any (needed for link).
	Principal *account.Principal
}

// Outcome kinds.
const (
	// OutcomeLoggedIn: a session was started (login or invitation).
	OutcomeLoggedIn = "logged_in"
	// OutcomeLinked: the upstream identity was linked to the signed-in member.
	OutcomeLinked = "linked"
	// OutcomeJoinRequested: a join request waits for an administrator.
	OutcomeJoinRequested = "join_requested"
)

// Outcome is the result of a finished flow.
type Outcome struct {
	Kind         string
	Practice     store.Practice
	ProviderName string
	// Principal and SessionToken are set for OutcomeLoggedIn.
	Principal    account.Principal
	SessionToken string
	// AuthRequest is the pending OpenID auth request to continue.
	AuthRequest string
	// Next is the page the login began for (BeginRequest.Next), as stored
	// with the flow.
	Next string
	// LandingURL is the invited app's URL after an invitation ("" for home).
	LandingURL string
	Purpose    string
}

// upstreamClaims are the ID-token claims frontdesk reads.
type upstreamClaims struct {
	Email         string `json:"email"`
	EmailVerified any    `json:"email_verified"`
	// XmsEdov is Entra's optional "email domain owner verified" claim.
	XmsEdov any    `json:"xms_edov"`
	Name    string `json:"name"`
	Azp     string `json:"azp"`
}

func truthy(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case string:
		return strings.EqualFold(x, "true") || x == "1"
	case float64:
		return x == 1
	}
	return false
}

// identity is a verified upstream identity.
type identity struct {
	issuer, subject, email, name string
	emailVerified                bool
}

func (id identity) domain() string {
	_, d, ok := strings.Cut(id.email, "@")
	if !ok {
		return ""
	}
	return strings.ToLower(d)
}

// domainAllowed applies the provider's allowed domains: none configured
// allows any identity; otherwise the email must be verified and in one.
func domainAllowed(p store.SSOProvider, id identity) bool {
	if len(p.AllowedDomains) == 0 {
		return true
	}
	if !id.emailVerified || id.domain() == "" {
		return false
	}
	for _, d := range p.AllowedDomains {
		if id.domain() == d {
			return true
		}
	}
	return false
}

// exchange redeems the code (with the PKCE verifier) and verifies the ID
// token: signature, issuer, audience (our client ID; with several audiences
// azp must be ours), expiry and the flow's nonce.
func (s *Service) exchange(ctx context.Context, slug string, p store.SSOProvider, f store.SSOFlow, code string) (identity, error) {
	secret, err := s.open(p)
	if err != nil {
		return identity{}, err
	}
	up, err := s.upstreamProvider(ctx, p.Issuer)
	if err != nil {
		return identity{}, err
	}
	cctx, cancel := context.WithTimeout(s.clientContext(ctx), s.cfg.Timeout)
	defer cancel()
	tok, err := s.oauthConfig(up, p, slug, secret).Exchange(cctx, code, oauth2.VerifierOption(f.CodeVerifier))
	if err != nil {
		return identity{}, fmt.Errorf("%w: code exchange: %w", ErrUpstream, err)
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok || raw == "" {
		return identity{}, fmt.Errorf("%w: the token response has no id_token", ErrUpstream)
	}
	verifier := up.VerifierContext(s.clientContext(context.WithoutCancel(ctx)), &gooidc.Config{ClientID: p.ClientID,
		Now: s.d.Now})
	idt, err := verifier.Verify(cctx, raw)
	if err != nil {
		return identity{}, fmt.Errorf("%w: id token: %w", ErrUpstream, err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(f.Nonce)) != 1 {
		return identity{}, fmt.Errorf("%w: id token nonce does not match this sign-in", ErrUpstream)
	}
	var c upstreamClaims
	if err := idt.Claims(&c); err != nil {
		return identity{}, fmt.Errorf("%w: id token claims: %w", ErrUpstream, err)
	}
	if len(idt.Audience) > 1 && c.Azp != p.ClientID {
		return identity{}, fmt.Errorf("%w: id token has several audiences and another authorized party", ErrUpstream)
	}
	if c.Email == "" {
		// OpenID Connect Core 5.4: when an access token is issued, the
		// email and profile claims come from the userinfo endpoint, and a
		// provider that follows it leaves them out of the ID token.
		if err := userinfoClaims(cctx, up, tok, idt.Subject, &c); err != nil {
			return identity{}, err
		}
	}
	if idt.Subject == "" || len(idt.Subject) > 255 || len(c.Email) > 254 {
		return identity{}, fmt.Errorf("%w: id token subject or email is missing or too long", ErrUpstream)
	}
	verified := truthy(c.EmailVerified) || (p.Kind == KindEntra && truthy(c.XmsEdov))
	name := c.Name
	if len(name) > 200 {
		name = name[:200]
	}
	return identity{issuer: idt.Issuer, subject: idt.Subject, email: strings.TrimSpace(c.Email), name: name,
		emailVerified: verified}, nil
}

// userinfoClaims fills c's email and name from the upstream's userinfo
// endpoint (through the guarded client in ctx), accepting the answer only
// for the ID token's subject (OpenID Connect Core 5.3.2). A provider without
// a userinfo endpoint leaves c as it is.
func userinfoClaims(ctx context.Context, up *gooidc.Provider, tok *oauth2.Token, subject string, c *upstreamClaims) error {
	if up.UserInfoEndpoint() == "" {
		return nil
	}
	info, err := up.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		return fmt.Errorf("%w: userinfo: %w", ErrUpstream, err)
	}
	if subtle.ConstantTimeCompare([]byte(info.Subject), []byte(subject)) != 1 {
		return fmt.Errorf("%w: userinfo is about another subject than the id token", ErrUpstream)
	}
	var u upstreamClaims
	if err := info.Claims(&u); err != nil {
		return fmt.Errorf("%w: userinfo claims: %w", ErrUpstream, err)
	}
	c.Email, c.EmailVerified = u.Email, u.EmailVerified
	if c.Name == "" {
		c.Name = u.Name
	}
	return nil
}

// Finish completes a flow at the callback. Errors: ErrFlowInvalid,
// ErrCancelled, ErrUpstream, ErrNotLinked, ErrDomainNotAllowed,
// ErrEmailMismatch, ErrAlreadyLinked, account.ErrLinkInvalid (invitation
// used meanwhile), account.ErrInvalidCredentials (member locked or
// deactivated), account.ErrNoSession (link without the same session).
func (s *Service) Finish(ctx context.Context, cb Callback, meta account.Meta) (Outcome, error) {
	pr, err := s.d.Accounts.Practice(ctx, cb.PracticeSlug)
	if err != nil {
		return Outcome{}, err
	}
	if cb.State == "" || len(cb.State) > MaxParamLen || len(cb.Code) > MaxParamLen || !ValidBinding(cb.Binding) {
		s.auditFailure(ctx, pr.ID, "", "", "state_invalid", meta)
		return Outcome{}, ErrFlowInvalid
	}
	f, err := s.d.Store.ConsumeSSOFlow(ctx, invites.HashToken(cb.State), invites.HashToken(cb.Binding), s.d.Now())
	if errors.Is(err, store.ErrNotFound) {
		s.auditFailure(ctx, pr.ID, "", "", "state_invalid", meta)
		return Outcome{}, ErrFlowInvalid
	}
	if err != nil {
		return Outcome{}, fmt.Errorf("sso: finish: %w", err)
	}
	if f.PracticeID != pr.ID {
		s.auditFailure(ctx, pr.ID, f.ProviderID, "", "state_invalid", meta)
		return Outcome{}, ErrFlowInvalid
	}
	p, err := s.d.Store.SSOProviderByID(ctx, pr.ID, f.ProviderID)
	if errors.Is(err, store.ErrNotFound) {
		return Outcome{}, ErrFlowInvalid
	}
	if err != nil {
		return Outcome{}, fmt.Errorf("sso: finish: %w", err)
	}
	out := Outcome{Practice: pr, ProviderName: p.DisplayName, AuthRequest: f.AuthRequest, Next: f.Next, Purpose: f.Purpose}
	if cb.Error != "" || cb.Code == "" {
		s.auditFailure(ctx, pr.ID, p.ID, "", "upstream_error", meta)
		return out, ErrCancelled
	}
	id, err := s.exchange(ctx, pr.Slug, p, f, cb.Code)
	if err != nil {
		s.d.Logger.InfoContext(ctx, "sso sign-in refused", "provider", p.ID, "err", err)
		s.auditFailure(ctx, pr.ID, p.ID, "", "upstream_verification", meta)
		return out, err
	}
	details := map[string]string{"provider": p.ID, "issuer": id.issuer, "upstream_subject": id.subject}
	if !domainAllowed(p, id) {
		s.auditFailure(ctx, pr.ID, p.ID, "", "domain_not_allowed", meta)
		return out, ErrDomainNotAllowed
	}
	switch f.Purpose {
	case PurposeLogin:
		return s.finishLogin(ctx, out, p, id, details, meta)
	case PurposeInvite:
		return s.finishInvite(ctx, out, p, f, id, details, meta)
	case PurposeLink:
		return s.finishLink(ctx, out, p, f, id, cb.Principal, details, meta)
	}
	return out, ErrFlowInvalid
}

func (s *Service) auditFailure(ctx context.Context, practiceID, providerID, subject, reason string, meta account.Meta) {
	d := map[string]string{"reason": reason, "method": account.MethodFederated}
	if providerID != "" {
		d["provider"] = providerID
	}
	s.d.Accounts.AuditBestEffort(ctx, store.AuditEvent{PracticeID: practiceID, Action: "sso.signin", Outcome: "failure",
		SubjectID: subject, Details: d}, meta)
}

func (s *Service) finishLogin(ctx context.Context, out Outcome, p store.SSOProvider, id identity,
	details map[string]string, meta account.Meta) (Outcome, error) {
	link, err := s.d.Store.SSOIdentityBySubject(ctx, out.Practice.ID, id.issuer, id.subject)
	if errors.Is(err, store.ErrNotFound) {
		// Never resolved by email. Optionally, a join request.
		if p.JoinEnabled && id.emailVerified {
			return s.requestJoin(ctx, out, p, id, meta)
		}
		s.auditFailure(ctx, out.Practice.ID, p.ID, "", "not_linked", meta)
		return out, ErrNotLinked
	}
	if err != nil {
		return out, fmt.Errorf("sso: login: %w", err)
	}
	details["identity"] = link.ID
	prc, token, err := s.d.Accounts.StartFederatedSession(ctx, out.Practice, link.MemberID, details, meta)
	if err != nil {
		return out, err
	}
	if err := s.d.Store.TouchSSOIdentity(ctx, link.ID, s.d.Now()); err != nil {
		s.d.Logger.WarnContext(ctx, "recording the sso identity's use failed", "identity", link.ID, "err", err)
	}
	out.Kind, out.Principal, out.SessionToken = OutcomeLoggedIn, prc, token
	return out, nil
}

func (s *Service) newLink(out Outcome, p store.SSOProvider, id identity, memberID, via string) store.SSOIdentity {
	return store.SSOIdentity{ID: s.d.NewID(), PracticeID: out.Practice.ID, ProviderID: p.ID, Issuer: id.issuer,
		Subject: id.subject, MemberID: memberID, Email: id.email, LinkedVia: via, CreatedAt: s.d.Now()}
}

func (s *Service) finishInvite(ctx context.Context, out Outcome, p store.SSOProvider, f store.SSOFlow, id identity,
	details map[string]string, meta account.Meta) (Outcome, error) {
	// The invitation's email must be the upstream's verified email, unless
	// the upstream email is in one of the provider's allowed (verified)
	// domains — checked above for every flow.
	check := func(invEmail string) error {
		if len(p.AllowedDomains) > 0 {
			return nil
		}
		if !id.emailVerified || store.EmailKey(id.email) != store.EmailKey(invEmail) {
			return ErrEmailMismatch
		}
		return nil
	}
	link := func(ctx context.Context, tx *store.Store, m store.Member) error {
		if err := tx.CreateSSOIdentity(ctx, s.newLink(out, p, id, m.ID, PurposeInvite)); errors.Is(err, store.ErrConflict) {
			return ErrAlreadyLinked
		} else if err != nil {
			return err
		}
		return nil
	}
	acc, err := s.d.Onboarding.AcceptInvitationFederated(ctx, out.Practice.Slug, f.InvitationTokenHash, check, link, details, meta)
	switch {
	case errors.Is(err, ErrEmailMismatch):
		s.auditFailure(ctx, out.Practice.ID, p.ID, "", "invitation_email_mismatch", meta)
		return out, err
	case errors.Is(err, ErrAlreadyLinked):
		s.auditFailure(ctx, out.Practice.ID, p.ID, "", "already_linked", meta)
		return out, err
	case err != nil:
		return out, err
	}
	out.Kind, out.Principal, out.SessionToken, out.LandingURL = OutcomeLoggedIn, acc.Principal, acc.SessionToken, acc.LandingURL
	return out, nil
}

func (s *Service) finishLink(ctx context.Context, out Outcome, p store.SSOProvider, f store.SSOFlow, id identity,
	cur *account.Principal, details map[string]string, meta account.Meta) (Outcome, error) {
	if cur == nil || cur.Session.ID != f.SessionID || cur.Member.ID != f.MemberID {
		s.auditFailure(ctx, out.Practice.ID, p.ID, f.MemberID, "session_changed", meta)
		return out, account.ErrNoSession
	}
	l := s.newLink(out, p, id, cur.Member.ID, "account")
	err := s.d.Store.InTx(ctx, func(tx *store.Store) error {
		if err := tx.CreateSSOIdentity(ctx, l); errors.Is(err, store.ErrConflict) {
			return ErrAlreadyLinked
		} else if err != nil {
			return err
		}
		details["identity"] = l.ID
		return s.d.Accounts.Audit(ctx, tx, store.AuditEvent{PracticeID: out.Practice.ID, Action: "sso.link",
			Outcome: "success", ActorID: cur.Member.ID, SubjectID: cur.Member.ID, Details: details}, meta)
	})
	if errors.Is(err, ErrAlreadyLinked) {
		s.auditFailure(ctx, out.Practice.ID, p.ID, cur.Member.ID, "already_linked", meta)
		return out, err
	}
	if err != nil {
		return out, fmt.Errorf("sso: link: %w", err)
	}
	out.Kind, out.Principal = OutcomeLinked, *cur
	return out, nil
}

func (s *Service) requestJoin(ctx context.Context, out Outcome, p store.SSOProvider, id identity, meta account.Meta) (Outcome, error) {
	j := store.SSOJoinRequest{ID: s.d.NewID(), PracticeID: out.Practice.ID, ProviderID: p.ID, Issuer: id.issuer,
		Subject: id.subject, Email: id.email, Name: id.name, RoleKey: p.JoinRole, CreatedAt: s.d.Now()}
	err := s.d.Store.InTx(ctx, func(tx *store.Store) error {
		if err := tx.CreateSSOJoinRequest(ctx, j); err != nil {
			return err
		}
		return s.d.Accounts.Audit(ctx, tx, store.AuditEvent{PracticeID: out.Practice.ID, Action: "sso.join.request",
			Outcome: "success", Details: map[string]string{"provider": p.ID, "request": j.ID, "email": id.email,
				"role": p.JoinRole}}, meta)
	})
	if err != nil && !errors.Is(err, store.ErrConflict) {
		return out, fmt.Errorf("sso: join request: %w", err)
	}
	// Asking twice answers the same: the request waits for approval.
	out.Kind = OutcomeJoinRequested
	return out, nil
}

// NeedsReauth reports whether the member must log in again (or confirm
// their password) before linking an upstream account.
func (s *Service) NeedsReauth(pr account.Principal) bool {
	return s.d.Accounts.RequireRecentLogin(pr, s.cfg.ReauthWindow) != nil
}
