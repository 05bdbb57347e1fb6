package oidc_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"golang.org/x/oauth2"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/onboarding"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
	"github.com/frontdeskhq/frontdesk/invites"
)

// The session limits of accounttest.New (sessions.idle_timeout and
// sessions.absolute_lifetime there).
const (
	testIdle     = 15 * time.Minute
	testAbsolute = 12 * time.Hour
)

// epsilon is "just before" a limit: the store keeps times in microseconds,
// so a limit holds to within a microsecond; a millisecond is well clear.
const epsilon = time.Millisecond

// TestSessionTimeouts (issue 17 point 8; the black-box test could not wait
// an hour): a browser session's idle timeout and absolute lifetime, with the
// injected clock. A session works up to the instant before its limit — for
// the account service, the home page and an app's authorization (a code) —
// and at the limit and after it is refused everywhere (the home page sends
// to the login page, the app gets no code). Idle time counts from the last
// request that refreshed the session (requests refresh it at most once a
// minute, so the idle timeout is exact to within a minute); the absolute
// lifetime ends a session however busy it is.
func TestSessionTimeouts(t *testing.T) {
	// keepAlive lists request times every 10 minutes up to (not at) until.
	keepAlive := func(until time.Duration) []time.Duration {
		var out []time.Duration
		for d := 10 * time.Minute; d < until; d += 10 * time.Minute {
			out = append(out, d)
		}
		return out
	}
	tests := []struct {
		name string
		// requests are made (and must succeed) at these offsets from the login.
		requests []time.Duration
		at       time.Duration // then the session is checked at this offset
		works    bool
	}{
		{"idle: just before the timeout", nil, testIdle - epsilon, true},
		{"idle: at the timeout", nil, testIdle, false},
		{"idle: a second after", nil, testIdle + time.Second, false},
		{"idle: counted from the last request, just before", []time.Duration{5 * time.Minute}, 5*time.Minute + testIdle - epsilon, true},
		{"idle: counted from the last request, at", []time.Duration{5 * time.Minute}, 5*time.Minute + testIdle, false},
		{"idle: a request within a minute does not refresh", []time.Duration{59 * time.Second}, testIdle, false},
		{"absolute: busy session just before the lifetime", keepAlive(testAbsolute), testAbsolute - epsilon, true},
		{"absolute: busy session at the lifetime", keepAlive(testAbsolute), testAbsolute, false},
		{"absolute: busy session a second after", append(keepAlive(testAbsolute), testAbsolute-time.Minute), testAbsolute + time.Second, false},
	}
	for _, engine := range storetest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			e := newPolicyEnv(t, engine)
			ctx := context.Background()
			cfg := e.oauth("ehr", ehrSecret, ehrCB, "profile")
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					b := e.browser()
					verifier := oauth2.GenerateVerifier()
					resp := e.postLogin(b, e.startAuth(b, cfg, verifier), ninaEmail, ninaPw)
					if code, where, status, _ := e.follow(b, resp); code == "" {
						t.Fatalf("login: stopped at %v %d", where, status)
					}
					token := sessionCookie(e, b)
					start := e.acc.Clock.Now()
					moveTo := func(d time.Duration) { e.acc.Clock.Advance(start.Add(d).Sub(e.acc.Clock.Now())) }
					for _, d := range tt.requests {
						moveTo(d)
						if _, err := e.acc.Service.Authenticate(ctx, "sunrise", token); err != nil {
							t.Fatalf("request at +%s: %v", d, err)
						}
					}
					moveTo(tt.at)
					_, err := e.acc.Service.Authenticate(ctx, "sunrise", token)
					if tt.works != (err == nil) {
						t.Errorf("Authenticate at +%s = %v, want works=%v", tt.at, err, tt.works)
					}
					if !tt.works && !errors.Is(err, account.ErrNoSession) {
						t.Errorf("Authenticate at +%s = %v, want ErrNoSession", tt.at, err)
					}
					home := e.get(b, "/p/sunrise/")
					_ = home.Body.Close()
					if loc, _ := home.Location(); tt.works != (home.StatusCode == http.StatusOK) ||
						(!tt.works && (loc == nil || loc.Path != "/p/sunrise/login")) {
						t.Errorf("home page at +%s = %d %v, want works=%v", tt.at, home.StatusCode, loc, tt.works)
					}
					code, where, status, _ := e.follow(b, e.get(b, cfg.AuthCodeURL("st4te", oauth2.S256ChallengeOption(verifier),
						oauth2.SetAuthURLParam("practice", "sunrise"))))
					if tt.works != (code != "") || (!tt.works && (status != http.StatusOK || where == nil || where.Path != "/p/sunrise/login")) {
						t.Errorf("authorize at +%s: code %v, stopped at %v %d; want works=%v", tt.at, code != "", where, status, tt.works)
					}
				})
			}
		})
	}
}

// TestInvitationExpiresWithoutCleanup (issue 17 point 8): an invitation link
// stops working at its expiry by itself — no cleanup job runs in this test,
// the row is still there — for opening the page, accepting with a password
// and accepting with single sign-on. The person is told what to do next.
func TestInvitationExpiresWithoutCleanup(t *testing.T) {
	const (
		email = "ivy@example.org"
		pw    = "harbor quiet lantern 42 amber"
	)
	ttl := onboarding.DefaultInvitationTTL
	tests := []struct {
		name  string
		at    time.Duration // after the invitation was sent
		try   string        // open, accept, sso
		works bool
	}{
		{"open just before expiry", ttl - epsilon, "open", true},
		{"open at expiry", ttl, "open", false},
		{"accept with a password a second after", ttl + time.Second, "accept", false},
		{"accept with single sign-on a second after", ttl + time.Second, "sso", false},
		{"accept with a password just before expiry", ttl - epsilon, "accept", true},
	}
	for _, engine := range storetest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					e := newPolicyEnv(t, engine)
					ctx := context.Background()
					p := mustPractice(t, e)
					sent := e.acc.Clock.Now()
					m := store.Member{ID: uuid.NewString(), PracticeID: p.ID, Email: email, Status: store.StatusInvited,
						Roles: []string{"practitioner"}, CreatedAt: sent}
					if err := e.store.CreateMember(ctx, m); err != nil {
						t.Fatal(err)
					}
					token, hash, err := invites.NewToken(strings.NewReader(strings.Repeat("x", 64)))
					if err != nil {
						t.Fatal(err)
					}
					inv := store.Invitation{ID: uuid.NewString(), PracticeID: p.ID, MemberID: m.ID, Email: email,
						Roles: m.Roles, InvitedBy: account.OperatorActorID, CreatedAt: sent, UpdatedAt: sent, ExpiresAt: sent.Add(ttl)}
					if err := e.store.CreateInvitation(ctx, inv, hash); err != nil {
						t.Fatal(err)
					}
					e.acc.Clock.Advance(tt.at)
					b := e.browser()
					var status int
					var body string
					switch tt.try {
					case "open":
						resp := e.get(b, "/p/sunrise/invite?token="+url.QueryEscape(token))
						status, body = resp.StatusCode, readBody(resp)
					case "accept":
						resp := (&site{e: e.env, c: b}).form("/p/sunrise/invite", url.Values{"token": {token},
							"new_password": {pw}, "confirm_password": {pw}})
						status, body = resp.StatusCode, readBody(resp)
					case "sso":
						_, err := e.acc.Onboard.AcceptInvitationFederated(ctx, "sunrise", invites.HashToken(token),
							func(string) error { return nil },
							func(context.Context, *store.Store, store.Member) error { return nil }, nil, account.Meta{})
						if tt.works != (err == nil) || (!tt.works && !errors.Is(err, account.ErrLinkInvalid)) {
							t.Fatalf("AcceptInvitationFederated = %v, want works=%v", err, tt.works)
						}
					}
					if tt.try != "sso" {
						switch {
						case tt.works && status/100 != 2 && status/100 != 3:
							t.Fatalf("%s: %d %s", tt.try, status, body)
						case !tt.works && (status != http.StatusGone ||
							!strings.Contains(body, "ask your practice administrator to send you a new invitation")):
							t.Fatalf("%s after expiry: %d %s", tt.try, status, body)
						}
						if !tt.works && sessionCookie(e, b) != "" {
							t.Error("an expired invitation set a session cookie")
						}
					}
					if tt.works {
						return
					}
					// The row is still there, neither accepted nor revoked, and
					// the member is still only invited: the expiry alone refused it.
					got, err := e.store.InvitationByID(ctx, p.ID, inv.ID)
					if err != nil {
						t.Fatalf("the invitation row is gone: %v", err)
					}
					if !got.AcceptedAt.IsZero() || !got.RevokedAt.IsZero() || got.State(e.acc.Clock.Now()) != store.InvitationExpired {
						t.Errorf("invitation = %+v (state %s)", got, got.State(e.acc.Clock.Now()))
					}
					if cur, err := e.store.MemberByID(ctx, p.ID, m.ID); err != nil || cur.Status != store.StatusInvited || cur.PasswordHash != "" {
						t.Errorf("member after the refused acceptance: %s, password %v, %v", cur.Status, cur.PasswordHash != "", err)
					}
				})
			}
		})
	}
}
