package oidc_test

// End-to-end tests of issue 4 (role models reflected in tokens) against the
// real role model: identity/roles behind the provider (through
// app.RolesClaims, the adapter `serve` uses), the real login page, real
// clients (go-oidc and x/oauth2) and a practice app verifying access tokens
// with identity/enforce. One clock drives accounts, roles, provider and app.

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/oauth2"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/account/accounttest"
	"github.com/frontdeskhq/frontdesk/identity/app"
	"github.com/frontdeskhq/frontdesk/identity/enforce"
	"github.com/frontdeskhq/frontdesk/identity/httpserver"
	fdoidc "github.com/frontdeskhq/frontdesk/identity/oidc"
	"github.com/frontdeskhq/frontdesk/identity/password"
	"github.com/frontdeskhq/frontdesk/identity/roles"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
	"github.com/frontdeskhq/frontdesk/invites"
	"github.com/frontdeskhq/frontdesk/templates"
)

// accessTTL is the provider's access-token lifetime in these tests (the
// default of oidc.access_token_ttl).
const accessTTL = 5 * time.Minute

// rolesEnv is frontdesk with the real role model and one practice created
// with a preset; ids maps short names to member IDs.
type rolesEnv struct {
	*env
	clock *accounttest.Clock
	roles *roles.Service
	pid   string
	ids   map[string]string
	app   *enforce.Verifier // the practice app "ehr", on the same clock
	mail  *invites.Worker   // delivers the outbox to acc.Mail
}

func newRolesEnv(t *testing.T, engine store.Engine, preset string) *rolesEnv {
	t.Helper()
	clock := accounttest.NewClock(time.Now().Truncate(time.Second))
	late := &lateHandler{}
	srv := httptest.NewTLSServer(late)
	t.Cleanup(srv.Close)
	st := storetest.Open(t, engine)
	acc := accounttest.New(t, st, accounttest.Options{PublicURL: srv.URL, Clock: clock})
	mails, err := templates.ParseMails()
	if err != nil {
		t.Fatal(err)
	}
	// Mail goes through the durable outbox, delivered to acc.Mail by a worker
	// the test runs (as `serve` does with SMTP or files).
	worker, err := invites.NewWorker(st, acc.Mail, invites.WorkerConfig{ID: "e2e"},
		slog.New(slog.DiscardHandler), prometheus.NewRegistry(), clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	var n atomic.Int64
	rs, err := roles.New(roles.Deps{Store: st, Now: clock.Now,
		NewID:    func() string { return fmt.Sprintf("r-%04d", n.Add(1)) },
		NotifyTx: roles.OutboxNotifier(mails)})
	if err != nil {
		t.Fatal(err)
	}
	pages, err := templates.ParsePages()
	if err != nil {
		t.Fatal(err)
	}
	master := make([]byte, fdoidc.MasterKeySize)
	_, _ = rand.Read(master)
	ctx := context.Background()
	provider, err := fdoidc.New(ctx, fdoidc.Deps{Store: st, Accounts: acc.Service, Claims: app.RolesClaims(rs), Now: clock.Now},
		fdoidc.Settings{Issuer: srv.URL, MasterKey: master, AccessTokenTTL: accessTTL, IDTokenTTL: time.Hour,
			RefreshTokenTTL: 720 * time.Hour, CodeTTL: time.Minute, AuthRequestTTL: 10 * time.Minute,
			SessionCookie: httpserver.SessionCookie,
			Clients: []fdoidc.ClientConfig{{ID: "ehr", Secret: ehrSecret, RedirectURIs: []string{ehrCB},
				GrantTypes: []string{"authorization_code", "refresh_token"},
				Scopes:     []string{"openid", "profile", "email", "offline_access", "practitioner", "roles"}}}})
	if err != nil {
		t.Fatal(err)
	}
	h, err := httpserver.New(httpserver.Deps{Accounts: acc.Service, Onboarding: acc.Onboard, DB: st, Pages: pages,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Registry: acc.Registry, PublicURL: srv.URL,
		MaxBodyBytes: 64 << 10, SessionLifetime: 12 * time.Hour, OIDC: provider})
	if err != nil {
		t.Fatal(err)
	}
	late.mu.Lock()
	late.h = h
	late.mu.Unlock()
	created, err := acc.Service.CreatePractice(ctx, account.NewPractice{Slug: "sunrise", Name: "Sunrise Therapy",
		OwnerEmail: ownerEmail, OwnerName: "Olive Owner", Preset: preset}, account.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(created.SetupURL)
	if _, _, err := acc.Service.CompleteSetup(ctx, "sunrise", u.Query().Get("token"), ownerPw, ownerPw, account.Meta{}); err != nil {
		t.Fatal(err)
	}
	ctx = gooidc.ClientContext(ctx, srv.Client())
	rp, err := gooidc.NewProvider(ctx, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	v, err := enforce.New(enforce.Config{Issuer: srv.URL, Audience: "ehr", Practice: "sunrise",
		HTTPClient: srv.Client(), Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return &rolesEnv{
		env: &env{t: t, srv: srv, acc: acc, provider: provider, ctx: ctx, rp: rp, ownerID: created.OwnerID,
			handler: h, store: st, late: late},
		clock: clock, roles: rs, pid: created.PracticeID, ids: map[string]string{"owner": created.OwnerID}, app: v,
		mail: worker,
	}
}

// member adds an active member name@example.org holding roleKeys, with the
// owner's password.
func (r *rolesEnv) member(name string, roleKeys ...string) string {
	r.t.Helper()
	ctx := context.Background()
	hash, err := password.NewHasher(accounttest.FastParams, 1).Hash(ctx, ownerPw)
	if err != nil {
		r.t.Fatal(err)
	}
	id := "m-" + name
	now := r.clock.Now()
	if err := r.store.CreateMember(ctx, store.Member{ID: id, PracticeID: r.pid, Email: name + "@example.org",
		DisplayName: name, Status: store.StatusActive, Roles: roleKeys, PasswordHash: hash, PasswordChangedAt: now,
		CreatedAt: now}); err != nil {
		r.t.Fatal(err)
	}
	r.ids[name] = id
	return id
}

func (r *rolesEnv) owner() roles.Actor { return roles.Actor{PracticeID: r.pid, MemberID: r.ownerID} }

// signIn runs the authorization-code flow (PKCE, nonce) in a new browser as
// the member with email, through the practice login page, and exchanges the
// code with x/oauth2. The ID token is verified with go-oidc (on the real
// clock: the library stamps ID tokens with it).
func (r *rolesEnv) signIn(email string, scopes ...string) *oauth2.Token {
	r.t.Helper()
	// The roles scope puts the practice claims in the ID token too.
	cfg := r.oauth("ehr", ehrSecret, ehrCB, append(scopes, fdoidc.ScopeRoles)...)
	c := r.browser()
	verifier, nonce := oauth2.GenerateVerifier(), oauth2.GenerateVerifier()
	resp := r.get(c, cfg.AuthCodeURL("st4te", oauth2.S256ChallengeOption(verifier), gooidc.Nonce(nonce),
		oauth2.SetAuthURLParam("practice", "sunrise")))
	for range 8 {
		if resp.StatusCode/100 != 3 {
			r.t.Fatalf("login of %s stopped at %d: %s", email, resp.StatusCode, readBody(resp))
		}
		_ = resp.Body.Close()
		loc, err := resp.Location()
		if err != nil {
			r.t.Fatal(err)
		}
		switch {
		case !strings.HasPrefix(loc.String(), r.srv.URL):
			tok, err := cfg.Exchange(r.tokenCtx(), loc.Query().Get("code"), oauth2.VerifierOption(verifier))
			if err != nil {
				r.t.Fatalf("code exchange for %s: %v", email, err)
			}
			idt, err := r.rp.Verifier(&gooidc.Config{ClientID: "ehr"}).Verify(r.ctx, tok.Extra("id_token").(string))
			if err != nil {
				r.t.Fatalf("go-oidc rejects the ID token of %s: %v", email, err)
			}
			if idt.Nonce != nonce {
				r.t.Fatalf("ID token nonce %q, want %q", idt.Nonce, nonce)
			}
			return tok
		case loc.Path == "/p/sunrise/login":
			page := r.get(c, loc.String())
			m := hiddenAuthRequest.FindStringSubmatch(readBody(page))
			if m == nil {
				r.t.Fatalf("login page: %d", page.StatusCode)
			}
			resp = r.postLogin(c, m[1], email, ownerPw)
		default:
			resp = r.get(c, loc.String())
		}
	}
	r.t.Fatal("too many redirects")
	return nil
}

// refresh redeems tok's refresh token (the refresh grant, via x/oauth2).
func (r *rolesEnv) refresh(tok *oauth2.Token, scopes ...string) *oauth2.Token {
	r.t.Helper()
	if len(scopes) > 0 {
		scopes = append(scopes, fdoidc.ScopeRoles)
	}
	next, err := r.oauth("ehr", ehrSecret, ehrCB, scopes...).TokenSource(r.tokenCtx(),
		&oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if err != nil {
		r.t.Fatalf("refresh: %v", err)
	}
	return next
}

// verify checks an access token as the running practice app does.
func (r *rolesEnv) verify(tok *oauth2.Token) *enforce.Claims {
	r.t.Helper()
	c, err := r.app.Verify(context.Background(), tok.AccessToken)
	if err != nil {
		r.t.Fatalf("the app (identity/enforce) rejects the access token: %v", err)
	}
	return c
}

func idClaims(t *testing.T, tok *oauth2.Token) map[string]any {
	t.Helper()
	raw, _ := tok.Extra("id_token").(string)
	return jwtClaims(t, raw)
}

func claimStrings(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, x := range list {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// Issue 4, point 6: a member may have several supervisors with co-signature
// requirements; a supervisor's tokens carry permissions with the supervisees
// scope (checked by apps with identity/enforce) and, with the practitioner
// scope, whom they supervise; a member's ID token and userinfo list their
// supervisors and which of them co-sign notes and treatment plans.
func TestSupervisionReachesTokens(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			r := newRolesEnv(t, engine, "sessions")
			ctx := context.Background()
			pat := r.member("pat", "practitioner")
			sue := r.member("sue", "practitioner", "supervisor")
			sam := r.member("sam", "practitioner", "supervisor")

			// A member without a supervisor role cannot be made a supervisor.
			err := r.roles.SetSupervisors(ctx, r.owner(), sam, []roles.SupervisorLink{{SupervisorID: pat, CosignNotes: true}}, roles.Meta{})
			if !errors.Is(err, roles.ErrInvalid) {
				t.Fatalf("practitioner as supervisor: %v, want ErrInvalid", err)
			}
			// Two supervisors: Sue co-signs notes and treatment plans, Sam notes only.
			links := []roles.SupervisorLink{{SupervisorID: sue, CosignNotes: true, CosignTreatmentPlans: true},
				{SupervisorID: sam, CosignNotes: true}}
			if err := r.roles.SetSupervisors(ctx, r.owner(), pat, links, roles.Meta{}); err != nil {
				t.Fatal(err)
			}
			sv, err := r.roles.Supervision(ctx, r.pid, pat)
			if err != nil || len(sv.Supervisors) != 2 {
				t.Fatalf("supervision of pat = %+v, %v", sv, err)
			}
			for _, l := range sv.Supervisors {
				if want := map[string]bool{sue: true, sam: false}[l.SupervisorID]; !l.CosignNotes || l.CosignTreatmentPlans != want {
					t.Errorf("co-signature requirements of %s = %+v", l.SupervisorID, l)
				}
			}
			if sees, _ := r.roles.Supervision(ctx, r.pid, sue); !slices.Equal(sees.Supervisees, []string{pat}) {
				t.Errorf("sue supervises %v, want [pat]", sees.Supervisees)
			}

			// The supervisor's tokens: the supervisees scope, enforced by the app.
			tok := r.signIn("sue@example.org", "profile", "practitioner")
			c := r.verify(tok)
			for perm, want := range map[string]bool{
				"clinical_notes.cosign:supervisees":  true,
				"treatment_plans.cosign:supervisees": true,
				"clinical_notes.approve:supervisees": true,
				"records.view:supervisees":           true,
				"clinical_notes.cosign:assigned":     true, // :supervisees implies :assigned
				"clinical_notes.cosign:all":          false,
				"records.view:all":                   false,
			} {
				if c.Allowed(perm) != want {
					t.Errorf("supervisor's access token: Allowed(%s) = %v, want %v (permissions %v)", perm, !want, want, c.Permissions)
				}
			}
			if p := claimStrings(idClaims(t, tok)["permissions"]); !slices.Contains(p, "clinical_notes.cosign:supervisees") {
				t.Errorf("supervisor's ID token permissions = %v", p)
			}
			// ...and, with the practitioner scope, whom :supervisees covers.
			if got := claimStrings(idClaims(t, tok)["supervisees"]); !slices.Equal(got, []string{pat}) {
				t.Errorf("supervisor's ID token supervisees = %v, want [%s]", got, pat)
			}

			// The supervisee's tokens: supervisors listed with the practitioner scope.
			tok = r.signIn("pat@example.org", "profile", "practitioner")
			if got := claimStrings(idClaims(t, tok)["supervisors"]); !slices.Equal(got, []string{sam, sue}) {
				t.Errorf("ID token supervisors = %v, want [%s %s]", got, sam, sue)
			}
			ui, err := r.rp.UserInfo(r.ctx, oauth2.StaticTokenSource(tok))
			if err != nil {
				t.Fatal(err)
			}
			var info struct {
				Supervisors []string `json:"supervisors"`
				Supervisees []string `json:"supervisees"`
				Notes       []string `json:"cosign_notes"`
				Plans       []string `json:"cosign_treatment_plans"`
			}
			if err := ui.Claims(&info); err != nil || !slices.Equal(info.Supervisors, []string{sam, sue}) ||
				!slices.Equal(info.Notes, []string{sam, sue}) || !slices.Equal(info.Plans, []string{sue}) ||
				info.Supervisees == nil || len(info.Supervisees) != 0 {
				t.Errorf("userinfo practitioner claims = %+v (%v)", info, err)
			}
			// Co-signature requirements: both supervisors co-sign notes, Sue
			// alone treatment plans.
			idc := idClaims(t, tok)
			if n, p := claimStrings(idc["cosign_notes"]), claimStrings(idc["cosign_treatment_plans"]); !slices.Equal(n, []string{sam, sue}) ||
				!slices.Equal(p, []string{sue}) {
				t.Errorf("ID token cosign_notes = %v, cosign_treatment_plans = %v", n, p)
			}
			if c := r.verify(tok); c.Allowed("clinical_notes.cosign:supervisees") || c.Allowed("clinical_notes.view:supervisees") {
				t.Errorf("a supervisee without a supervisor role holds supervisee permissions: %v", c.Permissions)
			}
			// Without the practitioner scope the claims are absent.
			plain := idClaims(t, r.signIn("pat@example.org", "profile"))
			for _, k := range []string{"supervisors", "supervisees", "cosign_notes", "cosign_treatment_plans"} {
				if _, ok := plain[k]; ok {
					t.Errorf("%s claim without the practitioner scope", k)
				}
			}
		})
	}
}

// Issue 4, point 8: emergency (break-glass) access, granted with a reason,
// appears in the very next token (refresh or new login) as elevated_until
// with the elevated permissions; the practice's administrators get an email;
// the grant is audited; tokens carrying it expire when it ends; afterwards
// new tokens no longer carry it.
func TestBreakGlassEndToEnd(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			r := newRolesEnv(t, engine, "sessions")
			ctx := context.Background()
			pat := r.member("pat", "practitioner")
			scopes := []string{"profile", "offline_access"}
			tok := r.signIn("pat@example.org", scopes...)
			if c := r.verify(tok); c.Allowed("clinical_notes.view:all") || !c.ElevatedUntil.IsZero() {
				t.Fatalf("before the elevation: %+v", c)
			}
			perms := []string{"clinical_notes.view:all", "records.view:all"}
			const reason = "Client in crisis; the primary clinician is unreachable"
			// A reason is mandatory, and the grantor needs elevation.grant.
			if _, err := r.roles.GrantElevation(ctx, r.owner(), pat, perms, 4*time.Hour, "  ", roles.Meta{}); !errors.Is(err, roles.ErrInvalid) {
				t.Fatalf("no reason: %v, want ErrInvalid", err)
			}
			self := roles.Actor{PracticeID: r.pid, MemberID: pat}
			if _, err := r.roles.GrantElevation(ctx, self, pat, perms, 4*time.Hour, reason, roles.Meta{}); !errors.Is(err, roles.ErrForbidden) {
				t.Fatalf("self-elevation: %v, want ErrForbidden", err)
			}
			granted := r.clock.Now()
			e, err := r.roles.GrantElevation(ctx, r.owner(), pat, perms, 4*time.Hour, reason, roles.Meta{RequestID: "req-bg"})
			if err != nil {
				t.Fatal(err)
			}
			if !e.ExpiresAt.Equal(granted.Add(4 * time.Hour)) {
				t.Fatalf("expires at %v", e.ExpiresAt)
			}

			// The next token, by refresh and by a new login, carries it.
			for name, next := range map[string]*oauth2.Token{"refresh": r.refresh(tok, scopes...),
				"new login": r.signIn("pat@example.org", scopes...)} {
				c := r.verify(next)
				if !c.ElevatedUntil.Equal(e.ExpiresAt) || !c.Allowed("clinical_notes.view:all") || !c.Allowed("records.view:all") {
					t.Errorf("%s: elevated_until %v, permissions %v", name, c.ElevatedUntil, c.Permissions)
				}
				if got := jwtClaims(t, next.AccessToken)["elevated_until"]; got != float64(e.ExpiresAt.Unix()) {
					t.Errorf("%s: access token elevated_until = %v", name, got)
				}
				if got := idClaims(t, next)["elevated_until"]; got != float64(e.ExpiresAt.Unix()) {
					t.Errorf("%s: ID token elevated_until = %v", name, got)
				}
				if name == "refresh" {
					tok = next
				}
			}

			// The administrators (members holding audit.view: the owner) are
			// notified by email, queued in the outbox with the grant.
			if sent, err := r.mail.RunOnce(ctx); err != nil || sent < 1 {
				t.Fatalf("outbox delivered %d messages: %v", sent, err)
			}
			var notice bool
			for _, m := range r.acc.Mail.Messages() {
				if m.To == ownerEmail && strings.Contains(m.Subject, "Emergency access") && strings.Contains(m.Text, reason) &&
					strings.Contains(m.Text, "pat@example.org") && strings.Contains(m.Text, "Read clinical notes: progress and session notes") &&
					!strings.Contains(m.Text, "clinical_notes.view:all") && m.HTML != "" {
					notice = true
				}
			}
			if !notice {
				t.Errorf("no emergency-access email to the owner; outbox: %+v", r.acc.Mail.Messages())
			}
			// It is audited, with who, for whom, what, why and until when.
			evs, err := r.store.ListAudit(ctx, r.pid, 50)
			if err != nil {
				t.Fatal(err)
			}
			i := slices.IndexFunc(evs, func(ev store.AuditEvent) bool { return ev.Action == "elevation.grant" && ev.Outcome == "success" })
			if i < 0 {
				t.Fatalf("no elevation.grant audit event in %+v", evs)
			}
			if ev := evs[i]; ev.ActorID != r.ownerID || ev.SubjectID != pat || ev.RequestID != "req-bg" || ev.Details["reason"] != reason ||
				ev.Details["permissions"] != strings.Join(perms, " ") || ev.Details["expires_at"] != e.ExpiresAt.UTC().Format(time.RFC3339) {
				t.Errorf("audit event = %+v", ev)
			}
			if !slices.ContainsFunc(evs, func(ev store.AuditEvent) bool {
				return ev.Action == "elevation.grant" && ev.Outcome == "failure" && ev.ActorID == pat
			}) {
				t.Error("the refused self-elevation is not audited")
			}

			// Near the end, a token carrying the elevation expires with it.
			r.clock.Advance(4*time.Hour - 2*time.Minute)
			tok = r.refresh(tok, scopes...)
			late := r.verify(tok)
			if !late.ElevatedUntil.Equal(e.ExpiresAt) || late.Expiry.After(e.ExpiresAt) {
				t.Errorf("token issued 2 minutes before the end expires at %v; the elevation ends at %v", late.Expiry, e.ExpiresAt)
			}

			// It ends on its own: a moment after, the app refuses that token
			// and every new token is back to normal.
			r.clock.Advance(3 * time.Minute)
			if _, err := r.app.Verify(ctx, tok.AccessToken); !errors.Is(err, enforce.ErrInvalidToken) {
				t.Errorf("token with the ended elevation still accepted: %v", err)
			}
			for name, next := range map[string]*oauth2.Token{"refresh": r.refresh(tok, scopes...),
				"new login": r.signIn("pat@example.org", scopes...)} {
				c := r.verify(next)
				if !c.ElevatedUntil.IsZero() || c.Allowed("clinical_notes.view:all") || c.Allowed("records.view:all") {
					t.Errorf("%s after the end: elevated_until %v, permissions %v", name, c.ElevatedUntil, c.Permissions)
				}
				if _, ok := jwtClaims(t, next.AccessToken)["elevated_until"]; ok {
					t.Errorf("%s after the end: access token still has elevated_until", name)
				}
				if c.Expiry.Sub(c.IssuedAt) != accessTTL {
					t.Errorf("%s after the end: lifetime %v, want the normal %v", name, c.Expiry.Sub(c.IssuedAt), accessTTL)
				}
			}
		})
	}
}

// Issue 4, point 9: a role change, a practice toggle, a member override and a
// role-definition edit each take effect in the very next token — a refresh grant and a new login —
// and a running app (identity/enforce) sees the change within one access-token
// lifetime: the token it holds expires after oidc.access_token_ttl at most
// (config refuses more than an hour), and the refresh that replaces it carries
// the new permissions.
func TestRoleModelChangesReachNextToken(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			r := newRolesEnv(t, engine, "zencare")
			ctx := context.Background()
			tests := []struct {
				name   string
				change func(member string) error
				perm   string
				before bool
			}{
				{"role change (therapist to office admin)", func(m string) error {
					return r.roles.SetMemberRoles(ctx, r.owner(), m, []string{"office_admin"}, roles.Meta{})
				}, "claims.submit", false},
				{"practice toggle (therapists see all clients)", func(string) error {
					return r.roles.SetToggle(ctx, r.owner(), "therapists_own_clients_only", false, roles.Meta{})
				}, "clients.view:all", false},
				{"member override (billing off)", func(m string) error {
					return r.roles.SetMemberOverrides(ctx, r.owner(), m, []roles.Override{{Permission: "billing.view:own", Grant: false}}, roles.Meta{})
				}, "billing.view:assigned", true},
				{"role definition (therapists may submit claims)", func(string) error {
					m, err := r.roles.Model(ctx, r.pid)
					if err != nil {
						return err
					}
					i := slices.IndexFunc(m.Roles, func(x roles.Role) bool { return x.Key == "therapist" })
					ther := m.Roles[i]
					ther.Permissions = append(slices.Clone(ther.Permissions), "claims.submit")
					return r.roles.PutRole(ctx, r.owner(), ther, roles.Meta{})
				}, "claims.submit", false},
			}
			scopes := []string{"offline_access"}
			for n, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					name := fmt.Sprintf("ther%d", n)
					r.member(name, "therapist")
					email := name + "@example.org"
					held := r.signIn(email, scopes...)
					old := r.verify(held)
					if old.Allowed(tt.perm) != tt.before {
						t.Fatalf("before: Allowed(%s) = %v", tt.perm, !tt.before)
					}
					if got := old.Expiry.Sub(old.IssuedAt); got != accessTTL {
						t.Fatalf("access token lifetime %v, want the configured %v", got, accessTTL)
					}
					if err := tt.change(r.ids[name]); err != nil {
						t.Fatal(err)
					}
					// New tokens: at once.
					for how, next := range map[string]*oauth2.Token{"refresh": r.refresh(held, scopes...), "new login": r.signIn(email, scopes...)} {
						if c := r.verify(next); c.Allowed(tt.perm) == tt.before {
							t.Errorf("%s right after the change: Allowed(%s) = %v, want %v", how, tt.perm, tt.before, !tt.before)
						}
						if p := claimStrings(idClaims(t, next)["permissions"]); roles.Allows(p, tt.perm) == tt.before {
							t.Errorf("%s right after the change: ID token permissions %v", how, p)
						}
					}
					// The running app: the token it already holds is stale for at
					// most one lifetime, then refused, so the app refreshes.
					if c := r.verify(held); c.Allowed(tt.perm) != tt.before {
						t.Errorf("the held token changed: %v", c.Permissions)
					}
					r.clock.Advance(accessTTL + time.Minute) // past exp and the app's 30 s leeway
					if _, err := r.app.Verify(ctx, held.AccessToken); !errors.Is(err, enforce.ErrInvalidToken) {
						t.Errorf("the app still accepts a token one lifetime old: %v", err)
					}
				})
			}
			// Each change was audited with before and after.
			evs, err := r.store.ListAudit(ctx, r.pid, 20)
			if err != nil {
				t.Fatal(err)
			}
			for _, action := range []string{"role.assign", "role.toggle", "role.override", "role.define"} {
				if !slices.ContainsFunc(evs, func(ev store.AuditEvent) bool {
					return ev.Action == action && ev.Outcome == "success" && ev.Details["after"] != ev.Details["before"]
				}) {
					t.Errorf("no %s audit event with before and after", action)
				}
			}
		})
	}
}
