package account_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/account/accounttest"
	"github.com/frontdeskhq/frontdesk/identity/password"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
)

var testParams = accounttest.FastParams

const goodPassword = "violet harbor lantern seventeen"

type fixture struct {
	svc   *account.Service
	st    *store.Store
	clock *accounttest.Clock
	mail  *accounttest.Outbox
}

func newFixture(t *testing.T, st *store.Store, params password.Params) *fixture {
	t.Helper()
	e := accounttest.New(t, st, accounttest.Options{Params: params})
	return &fixture{svc: e.Service, st: st, clock: e.Clock, mail: e.Mail}
}

func (f *fixture) createPractice(t *testing.T, slug, owner string) (account.CreatedPractice, string) {
	t.Helper()
	created, err := f.svc.CreatePractice(context.Background(), account.NewPractice{Slug: slug, Name: "Sunrise Therapy " + slug,
		OwnerEmail: owner, OwnerName: "Olive Owner"}, account.Meta{RequestID: "test"})
	if err != nil {
		t.Fatalf("CreatePractice: %v", err)
	}
	return created, tokenOf(t, created.SetupURL)
}

func tokenOf(t testing.TB, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("token")
}

// activeOwner creates a practice whose owner has set goodPassword.
func (f *fixture) activeOwner(t *testing.T, slug, owner string) account.Principal {
	t.Helper()
	_, token := f.createPractice(t, slug, owner)
	pr, _, err := f.svc.CompleteSetup(context.Background(), slug, token, goodPassword, goodPassword, account.Meta{})
	if err != nil {
		t.Fatalf("CompleteSetup: %v", err)
	}
	return pr
}

func TestCreatePracticeAndSetup(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := newFixture(t, st, testParams)
		created, token := f.createPractice(t, "sunrise", "Olive@Example.org")
		if !strings.HasPrefix(created.SetupURL, "https://id.example.org/p/sunrise/setup?token=") || len(token) < 43 {
			t.Errorf("SetupURL = %q", created.SetupURL)
		}
		if len(f.mail.Messages()) != 1 {
			t.Fatalf("sent %d messages, want 1", len(f.mail.Messages()))
		}
		msg := f.mail.Messages()[0]
		if msg.To != "Olive@Example.org" || !strings.Contains(msg.Text, "\n"+created.SetupURL+"\n") || msg.HTML == "" {
			t.Errorf("setup mail: %+v", msg)
		}

		// Opening the link, many times, consumes nothing.
		for range 5 {
			v, err := f.svc.OpenSetupLink(ctx, "sunrise", token)
			if err != nil || v.Email != "Olive@Example.org" || v.Practice.Slug != "sunrise" {
				t.Fatalf("OpenSetupLink = %+v, %v", v, err)
			}
		}
		pr, session, err := f.svc.CompleteSetup(ctx, "sunrise", token, goodPassword, goodPassword, account.Meta{ClientAddr: "192.0.2.1"})
		if err != nil {
			t.Fatal(err)
		}
		if pr.Member.Status != store.StatusActive || pr.Member.Roles[0] != account.OwnerRole || session == "" {
			t.Errorf("after setup: %+v", pr.Member)
		}
		if got, err := f.svc.Authenticate(ctx, "sunrise", session); err != nil || got.Member.ID != created.OwnerID {
			t.Errorf("Authenticate after setup = %+v, %v", got, err)
		}
		// Single use.
		if _, _, err := f.svc.CompleteSetup(ctx, "sunrise", token, goodPassword+"x", goodPassword+"x", account.Meta{}); !errors.Is(err, account.ErrLinkInvalid) {
			t.Errorf("second use: %v, want ErrLinkInvalid", err)
		}
		if _, err := f.svc.OpenSetupLink(ctx, "sunrise", token); !errors.Is(err, account.ErrLinkInvalid) {
			t.Errorf("open after use: %v, want ErrLinkInvalid", err)
		}

		events, err := st.ListAudit(ctx, created.PracticeID, 50)
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, e := range events {
			actions = append([]string{e.Action + ":" + e.Outcome}, actions...)
			for k, v := range e.Details {
				if strings.Contains(v, token) || strings.Contains(v, goodPassword) {
					t.Errorf("audit event %s detail %s holds a secret", e.Action, k)
				}
			}
		}
		want := "practice.create:success member.create:success password.set:success login:success"
		if strings.Join(actions, " ") != want {
			t.Errorf("audit trail = %v, want %s", actions, want)
		}
	})
}

func TestCreatePracticeRejectsBadInput(t *testing.T) {
	f := newFixture(t, storetest.Open(t, store.SQLite), testParams)
	tests := []struct {
		name  string
		in    account.NewPractice
		field string
	}{
		{"bad slug", account.NewPractice{Slug: "Sun Rise", Name: "x", OwnerEmail: "a@example.org"}, "slug"},
		{"no name", account.NewPractice{Slug: "sunrise", Name: " ", OwnerEmail: "a@example.org"}, "name"},
		{"name with line break", account.NewPractice{Slug: "sunrise", Name: "Sun\r\nBcc: x@evil", OwnerEmail: "a@example.org"}, "name"},
		{"bad email", account.NewPractice{Slug: "sunrise", Name: "Sun", OwnerEmail: "not-an-email"}, "email"},
		{"email with display name", account.NewPractice{Slug: "sunrise", Name: "Sun", OwnerEmail: "Eve <eve@example.org>"}, "email"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.svc.CreatePractice(context.Background(), tt.in, account.Meta{})
			var invalid *account.InvalidInputError
			if !errors.As(err, &invalid) || invalid.Field != tt.field {
				t.Errorf("err = %v, want InvalidInputError on %s", err, tt.field)
			}
		})
	}
	f.createPractice(t, "sunrise", "a@example.org")
	if _, err := f.svc.CreatePractice(context.Background(), account.NewPractice{Slug: "sunrise", Name: "Again",
		OwnerEmail: "b@example.org"}, account.Meta{}); !errors.Is(err, account.ErrPracticeExists) {
		t.Errorf("duplicate slug: %v", err)
	}
}

func TestSetupLinkRaces(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st, testParams)
		_, token := f.createPractice(t, "sunrise", "olive@example.org")
		var wins atomic.Int32
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				pw := fmt.Sprintf("%s number %d", goodPassword, i)
				_, _, err := f.svc.CompleteSetup(context.Background(), "sunrise", token, pw, pw, account.Meta{})
				switch {
				case err == nil:
					wins.Add(1)
				case !errors.Is(err, account.ErrLinkInvalid):
					t.Errorf("CompleteSetup: %v", err)
				}
			}()
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Errorf("%d concurrent redemptions succeeded, want exactly 1", wins.Load())
		}
	})
}

func TestSetupLinkRefusals(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, storetest.Open(t, store.SQLite), testParams)
	_, token := f.createPractice(t, "sunrise", "olive@example.org")
	f.createPractice(t, "harbor", "hana@example.org")

	tests := []struct {
		name, practice, token string
	}{
		{"empty token", "sunrise", ""},
		{"unknown token", "sunrise", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
		{"overlong token", "sunrise", strings.Repeat("A", 10000)},
		{"other practice", "harbor", token},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := f.svc.OpenSetupLink(ctx, tt.practice, tt.token); !errors.Is(err, account.ErrLinkInvalid) {
				t.Errorf("OpenSetupLink = %v, want ErrLinkInvalid", err)
			}
			if _, _, err := f.svc.CompleteSetup(ctx, tt.practice, tt.token, goodPassword, goodPassword, account.Meta{}); !errors.Is(err, account.ErrLinkInvalid) {
				t.Errorf("CompleteSetup = %v, want ErrLinkInvalid", err)
			}
		})
	}

	// Policy and confirmation are checked before the link is consumed.
	var violation *password.Violation
	if _, _, err := f.svc.CompleteSetup(ctx, "sunrise", token, "short", "short", account.Meta{}); !errors.As(err, &violation) || violation.Code != "too_short" {
		t.Errorf("short password: %v", err)
	}
	if _, _, err := f.svc.CompleteSetup(ctx, "sunrise", token, "sunrisetherapysunrise", "sunrisetherapysunrise", account.Meta{}); !errors.As(err, &violation) {
		t.Errorf("practice-name password accepted: %v", err)
	}
	if _, _, err := f.svc.CompleteSetup(ctx, "sunrise", token, goodPassword, goodPassword+" ", account.Meta{}); !errors.Is(err, account.ErrPasswordMismatch) {
		t.Errorf("mismatch: %v", err)
	}
	if _, err := f.svc.OpenSetupLink(ctx, "sunrise", token); err != nil {
		t.Errorf("link consumed by a refused attempt: %v", err)
	}

	// Expiry is checked at redemption time.
	f.clock.Advance(72 * time.Hour)
	if _, _, err := f.svc.CompleteSetup(ctx, "sunrise", token, goodPassword, goodPassword, account.Meta{}); !errors.Is(err, account.ErrLinkInvalid) {
		t.Errorf("expired link: %v, want ErrLinkInvalid", err)
	}
}

func TestLogin(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := newFixture(t, st, testParams)
		owner := f.activeOwner(t, "sunrise", "Olive@Example.org")
		_, _ = f.createPractice(t, "harbor", "hana@example.org") // invited, no password yet

		// Another member who is deactivated.
		gone := store.Member{ID: "gone", PracticeID: owner.Practice.ID, Email: "gone@example.org", Status: store.StatusActive, CreatedAt: f.clock.Now()}
		if err := st.CreateMember(ctx, gone); err != nil {
			t.Fatal(err)
		}
		if err := st.SetPassword(ctx, "gone", owner.Member.PasswordHash, f.clock.Now(), false); err != nil {
			t.Fatal(err)
		}
		_ = st.SetMemberStatus(ctx, "gone", store.StatusDeactivated, f.clock.Now())

		tests := []struct {
			name, practice, email, password string
			want                            error
		}{
			{"right", "sunrise", "Olive@Example.org", goodPassword, nil},
			{"email in other case", "sunrise", "olive@EXAMPLE.org", goodPassword, nil},
			{"wrong password", "sunrise", "olive@example.org", goodPassword + "!", account.ErrInvalidCredentials},
			{"password with trailing space", "sunrise", "olive@example.org", goodPassword + " ", account.ErrInvalidCredentials},
			{"password in upper case", "sunrise", "olive@example.org", strings.ToUpper(goodPassword), account.ErrInvalidCredentials},
			{"unknown email", "sunrise", "nobody@example.org", goodPassword, account.ErrInvalidCredentials},
			{"deactivated", "sunrise", "gone@example.org", goodPassword, account.ErrInvalidCredentials},
			{"invited without password", "harbor", "hana@example.org", goodPassword, account.ErrInvalidCredentials},
			{"member of another practice", "harbor", "olive@example.org", goodPassword, account.ErrInvalidCredentials},
			{"empty password", "sunrise", "olive@example.org", "", account.ErrInvalidCredentials},
			{"huge password", "sunrise", "olive@example.org", strings.Repeat("x", 1<<20), account.ErrInvalidCredentials},
			{"unknown practice", "nope", "olive@example.org", goodPassword, account.ErrPracticeNotFound},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				pr, token, err := f.svc.Login(ctx, tt.practice, tt.email, tt.password, account.Meta{ClientAddr: "192.0.2.9"})
				if !errors.Is(err, tt.want) {
					t.Fatalf("Login = %v, want %v", err, tt.want)
				}
				if tt.want == nil && (token == "" || pr.Member.ID != owner.Member.ID || pr.Session.AMR[0] != account.MethodPassword) {
					t.Errorf("Login = %+v, %q", pr, token)
				}
			})
		}
		// Failures are audited without the password.
		events, _ := st.ListAudit(ctx, owner.Practice.ID, 100)
		failures := 0
		for _, e := range events {
			if e.Action == "login" && e.Outcome == "failure" {
				failures++
				if e.ClientAddr != "192.0.2.9" || e.Details["reason"] == "" {
					t.Errorf("failure event lacks context: %+v", e)
				}
				for _, v := range e.Details {
					if strings.Contains(v, goodPassword) {
						t.Errorf("password in audit details: %+v", e)
					}
				}
			}
		}
		if failures < 6 {
			t.Errorf("%d login failures audited, want at least 6", failures)
		}
	})
}

func TestLoginUpgradesHash(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t, store.SQLite)
	f := newFixture(t, st, testParams)
	owner := f.activeOwner(t, "sunrise", "olive@example.org")
	old := owner.Member.PasswordHash

	stronger := testParams
	stronger.Iterations = 2
	f2 := newFixture(t, st, stronger)
	if _, _, err := f2.svc.Login(ctx, "sunrise", "olive@example.org", goodPassword, account.Meta{}); err != nil {
		t.Fatal(err)
	}
	m, _ := st.MemberByID(ctx, owner.Practice.ID, owner.Member.ID)
	if m.PasswordHash == old || !strings.Contains(m.PasswordHash, "t=2") {
		t.Errorf("hash not upgraded: %s", m.PasswordHash)
	}
	if _, _, err := f2.svc.Login(ctx, "sunrise", "olive@example.org", goodPassword, account.Meta{}); err != nil {
		t.Errorf("login after upgrade: %v", err)
	}
}

func TestSessions(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := newFixture(t, st, testParams)
		f.activeOwner(t, "sunrise", "olive@example.org")
		f.createPractice(t, "harbor", "hana@example.org")
		login := func() string {
			_, tok, err := f.svc.Login(ctx, "sunrise", "olive@example.org", goodPassword, account.Meta{})
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}

		tok := login()
		if _, err := f.svc.Authenticate(ctx, "harbor", tok); !errors.Is(err, account.ErrNoSession) {
			t.Errorf("session used on another practice: %v", err)
		}
		if _, err := f.svc.Authenticate(ctx, "sunrise", tok+"x"); !errors.Is(err, account.ErrNoSession) {
			t.Errorf("altered token: %v", err)
		}

		// Activity keeps a session alive past the idle timeout...
		for range 4 {
			f.clock.Advance(10 * time.Minute)
			if _, err := f.svc.Authenticate(ctx, "sunrise", tok); err != nil {
				t.Fatalf("active session ended: %v", err)
			}
		}
		// ...but not 15 minutes of silence.
		f.clock.Advance(15 * time.Minute)
		if _, err := f.svc.Authenticate(ctx, "sunrise", tok); !errors.Is(err, account.ErrNoSession) {
			t.Errorf("idle session still valid: %v", err)
		}

		// The absolute lifetime ends even an active session.
		tok = login()
		for elapsed := time.Duration(0); elapsed < 12*time.Hour-10*time.Minute; elapsed += 10 * time.Minute {
			f.clock.Advance(10 * time.Minute)
			if _, err := f.svc.Authenticate(ctx, "sunrise", tok); err != nil {
				t.Fatalf("session ended early at %v: %v", elapsed, err)
			}
		}
		f.clock.Advance(10 * time.Minute)
		if _, err := f.svc.Authenticate(ctx, "sunrise", tok); !errors.Is(err, account.ErrNoSession) {
			t.Errorf("session outlived its absolute lifetime: %v", err)
		}

		// Logout ends it server-side; repeating is harmless.
		tok = login()
		if err := f.svc.Logout(ctx, tok, account.Meta{}); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Logout(ctx, tok, account.Meta{}); err != nil {
			t.Errorf("second logout: %v", err)
		}
		if _, err := f.svc.Authenticate(ctx, "sunrise", tok); !errors.Is(err, account.ErrNoSession) {
			t.Errorf("session valid after logout: %v", err)
		}

		// Deactivation ends sessions.
		tok = login()
		pr, _ := f.svc.Authenticate(ctx, "sunrise", tok)
		_ = st.SetMemberStatus(ctx, pr.Member.ID, store.StatusDeactivated, f.clock.Now())
		if _, err := f.svc.Authenticate(ctx, "sunrise", tok); !errors.Is(err, account.ErrNoSession) {
			t.Errorf("deactivated member still signed in: %v", err)
		}
	})
}

func TestChangePassword(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := newFixture(t, st, testParams)
		f.activeOwner(t, "sunrise", "olive@example.org")
		_, other, _ := f.svc.Login(ctx, "sunrise", "olive@example.org", goodPassword, account.Meta{})
		pr, tok, err := f.svc.Login(ctx, "sunrise", "olive@example.org", goodPassword, account.Meta{})
		if err != nil {
			t.Fatal(err)
		}
		const next = "quiet meadow under copper rain"
		var violation *password.Violation
		tests := []struct {
			name, current, newPw, confirm string
			check                         func(error) bool
		}{
			{"wrong current", "not it at all, sorry", next, next, func(err error) bool { return errors.Is(err, account.ErrWrongPassword) }},
			{"mismatch", goodPassword, next, next + "!", func(err error) bool { return errors.Is(err, account.ErrPasswordMismatch) }},
			{"too short", goodPassword, "tiny", "tiny", func(err error) bool { return errors.As(err, &violation) }},
			{"same", goodPassword, goodPassword, goodPassword, func(err error) bool { return errors.Is(err, account.ErrSamePassword) }},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if err := f.svc.ChangePassword(ctx, pr, tt.current, tt.newPw, tt.confirm, account.Meta{}); !tt.check(err) {
					t.Errorf("ChangePassword = %v", err)
				}
			})
		}
		if err := f.svc.ChangePassword(ctx, pr, goodPassword, next, next, account.Meta{}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Authenticate(ctx, "sunrise", tok); err != nil {
			t.Errorf("current session ended by password change: %v", err)
		}
		if _, err := f.svc.Authenticate(ctx, "sunrise", other); !errors.Is(err, account.ErrNoSession) {
			t.Errorf("other session survived password change: %v", err)
		}
		if _, _, err := f.svc.Login(ctx, "sunrise", "olive@example.org", goodPassword, account.Meta{}); !errors.Is(err, account.ErrInvalidCredentials) {
			t.Errorf("old password still works: %v", err)
		}
		if _, _, err := f.svc.Login(ctx, "sunrise", "olive@example.org", next, account.Meta{}); err != nil {
			t.Errorf("new password refused: %v", err)
		}
	})
}

func TestBootstrapOnce(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st, testParams)
		in := account.NewPractice{Slug: "demo", Name: "Demo Practice", OwnerEmail: "owner@demo.example"}
		var created atomic.Int32
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, ok, err := f.svc.Bootstrap(context.Background(), in)
				if err != nil {
					t.Errorf("Bootstrap: %v", err)
				}
				if ok {
					created.Add(1)
				}
			}()
		}
		wg.Wait()
		if created.Load() != 1 {
			t.Errorf("%d bootstraps created the demo practice, want 1", created.Load())
		}
		if _, ok, _ := f.svc.Bootstrap(context.Background(), in); ok {
			t.Error("bootstrap ran again on a non-empty database")
		}
	})
}

func TestSetupMailFailureKeepsPractice(t *testing.T) {
	f := newFixture(t, storetest.Open(t, store.SQLite), testParams)
	f.mail.Err = errors.New("smtp down")
	created, err := f.svc.CreatePractice(context.Background(), account.NewPractice{Slug: "sunrise", Name: "Sunrise",
		OwnerEmail: "olive@example.org"}, account.Meta{})
	if err != nil || created.MailErr == nil || created.SetupURL == "" {
		t.Fatalf("CreatePractice with mail down = %+v, %v", created, err)
	}
	if _, err := f.svc.OpenSetupLink(context.Background(), "sunrise", tokenOf(t, created.SetupURL)); err != nil {
		t.Errorf("setup link unusable after mail failure: %v", err)
	}
}

func TestParseEmail(t *testing.T) {
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"olive@example.org", "olive@example.org", true},
		{"  Olive@Example.org ", "Olive@Example.org", true},
		{"", "", false},
		{"olive", "", false},
		{"Olive <olive@example.org>", "", false},
		{"olive@example.org\r\nBcc: eve@example.org", "", false},
		{strings.Repeat("a", 250) + "@example.org", "", false},
		{"a@b@example.org", "", false},
	}
	for _, tt := range tests {
		got, err := account.ParseEmail(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseEmail(%q) = %q, %v", tt.in, got, err)
		}
	}
}
