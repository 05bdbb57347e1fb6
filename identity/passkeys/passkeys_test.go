package passkeys_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/account/accounttest"
	"github.com/frontdeskhq/frontdesk/identity/passkeys"
	"github.com/frontdeskhq/frontdesk/identity/passkeys/passkeystest"
	"github.com/frontdeskhq/frontdesk/identity/password"
	"github.com/frontdeskhq/frontdesk/identity/roles"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
	"github.com/frontdeskhq/frontdesk/lockout"
)

const (
	origin       = passkeystest.Origin
	rpID         = passkeystest.RPID
	goodPassword = "violet harbor lantern seventeen"
)

var meta = account.Meta{ClientAddr: "192.0.2.7", UserAgent: "test", RequestID: "r1"}

type env struct {
	acc *accounttest.Env
	svc *passkeys.Service
	st  *store.Store
}

func newEnv(t *testing.T, st *store.Store, pol lockout.Policy) *env {
	t.Helper()
	acc := accounttest.New(t, st, accounttest.Options{Lockout: pol})
	return &env{acc: acc, svc: passkeystest.NewService(t, st, acc.Service, acc.Clock.Now), st: st}
}

// owner creates a practice and returns its owner's fresh session.
func (e *env) owner(t *testing.T, slug string) account.Principal {
	t.Helper()
	ctx := context.Background()
	created, err := e.acc.Service.CreatePractice(ctx, account.NewPractice{Slug: slug, Name: "Practice " + slug,
		OwnerEmail: "owner@" + slug + ".example", OwnerName: "Olive Owner"}, meta)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(created.SetupURL)
	pr, _, err := e.acc.Service.CompleteSetup(ctx, slug, u.Query().Get("token"), goodPassword, goodPassword, meta)
	if err != nil {
		t.Fatal(err)
	}
	return pr
}

// member adds an active member with goodPassword to pr's practice and logs
// them in.
func (e *env) member(t *testing.T, pr account.Principal, id, email string) account.Principal {
	t.Helper()
	ctx := context.Background()
	h, err := password.NewHasher(accounttest.FastParams, 1).Hash(ctx, goodPassword)
	if err != nil {
		t.Fatal(err)
	}
	now := e.acc.Clock.Now()
	if err := e.st.CreateMember(ctx, store.Member{ID: id, PracticeID: pr.Practice.ID, Email: email, Status: store.StatusActive,
		PasswordHash: h, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	m, _, err := e.acc.Service.Login(ctx, pr.Practice.Slug, email, goodPassword, meta)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func js(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// register enrols a new software authenticator for pr.
func (e *env) register(t *testing.T, pr account.Principal) (*passkeystest.Authenticator, store.Passkey) {
	t.Helper()
	a := passkeystest.New(origin, rpID)
	pk, err := e.tryRegister(t, pr, a, "Laptop")
	if err != nil {
		t.Fatalf("register: %v", err)
	}
	return a, pk
}

func (e *env) tryRegister(t *testing.T, pr account.Principal, a *passkeystest.Authenticator, name string) (store.Passkey, error) {
	t.Helper()
	ctx := context.Background()
	opts, token, err := e.svc.BeginRegistration(ctx, pr)
	if err != nil {
		return store.Passkey{}, err
	}
	return e.svc.FinishRegistration(ctx, pr, token, name, bytes.NewReader(a.Create(js(t, opts))), meta)
}

func (e *env) login(t *testing.T, slug, email string, a *passkeystest.Authenticator) (account.Principal, string, error) {
	t.Helper()
	ctx := context.Background()
	opts, token, err := e.svc.BeginLogin(ctx, slug, email)
	if err != nil {
		t.Fatalf("BeginLogin: %v", err)
	}
	return e.svc.FinishLogin(ctx, slug, token, bytes.NewReader(a.Get(js(t, opts))), meta)
}

func lastAudit(t *testing.T, st *store.Store, practiceID, action string) store.AuditEvent {
	t.Helper()
	evs, err := st.ListAudit(context.Background(), practiceID, 200)
	if err != nil {
		t.Fatal(err)
	}
	var last store.AuditEvent
	found := false
	for _, e := range evs {
		if e.Action == action && (!found || e.ID > last.ID) {
			last, found = e, true
		}
	}
	if !found {
		t.Fatalf("no %s audit event", action)
	}
	return last
}

func TestRegisterAndLogin(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		e := newEnv(t, st, lockout.Policy{})
		pr := e.owner(t, "sunrise")
		a, pk := e.register(t, pr)
		if pk.Name != "Laptop" || pk.MemberID != pr.Member.ID || !pk.UserVerified || pk.SignCount != 1 ||
			!slices.Equal(pk.Transports, []string{"internal", "hybrid"}) {
			t.Errorf("registered passkey = %+v", pk)
		}
		if ev := lastAudit(t, st, pr.Practice.ID, "passkey.register"); ev.Outcome != "success" || ev.Details["passkey"] != pk.ID {
			t.Errorf("register audit = %+v", ev)
		}
		// Discoverable: no email typed.
		got, token, err := e.login(t, "sunrise", "", a)
		if err != nil {
			t.Fatalf("discoverable login: %v", err)
		}
		if got.Member.ID != pr.Member.ID || !slices.Equal(got.Session.AMR, []string{"hwk", "user"}) {
			t.Errorf("passkey principal = %+v", got.Session)
		}
		if _, err := e.acc.Service.Authenticate(ctx, "sunrise", token); err != nil {
			t.Errorf("passkey session does not authenticate: %v", err)
		}
		if ev := lastAudit(t, st, pr.Practice.ID, "login"); ev.Outcome != "success" || ev.Details["method"] != "hwk" || ev.Details["passkey"] != pk.ID {
			t.Errorf("login audit = %+v", ev)
		}
		// With the email.
		if _, _, err := e.login(t, "sunrise", "OWNER@sunrise.example", a); err != nil {
			t.Errorf("login with email: %v", err)
		}
		list, err := e.svc.List(ctx, pr)
		if err != nil || len(list) != 1 || list[0].SignCount != 3 || list[0].LastUsedAt.IsZero() {
			t.Errorf("List = %+v, %v", list, err)
		}
		// The same credential cannot be registered twice.
		if _, err := e.tryRegister(t, pr, a, "Again"); !errors.Is(err, passkeys.ErrAlreadyRegistered) {
			t.Errorf("duplicate registration: %v", err)
		}
	})
}

func TestLoginRefusals(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		e := newEnv(t, st, lockout.Policy{})
		pr := e.owner(t, "sunrise")
		other := e.member(t, pr, "member-2", "second@sunrise.example")
		a, _ := e.register(t, pr)
		b, _ := e.register(t, other)
		elsewhere := e.owner(t, "moonrise")
		c, _ := e.register(t, elsewhere)

		refused := func(name string, err error) {
			t.Helper()
			if !errors.Is(err, account.ErrInvalidCredentials) {
				t.Errorf("%s: err = %v, want ErrInvalidCredentials", name, err)
			}
		}
		// Another member's email with this credential.
		_, _, err := e.login(t, "sunrise", "second@sunrise.example", a)
		refused("other member's email", err)
		if ev := lastAudit(t, st, pr.Practice.ID, "login"); ev.Details["reason"] != "other_member" {
			t.Errorf("audit reason = %q", ev.Details["reason"])
		}
		_, _, err = e.login(t, "sunrise", "nobody@sunrise.example", b)
		refused("unknown email", err)
		// A credential of another practice.
		_, _, err = e.login(t, "sunrise", "", c)
		refused("other practice", err)
		// Wrong origin and wrong RP ID.
		evil := *a
		evil.Origin = "https://id.example.org.evil.test"
		_, _, err = e.login(t, "sunrise", "", &evil)
		refused("wrong origin", err)
		evil = *a
		evil.RPID = "evil.test"
		_, _, err = e.login(t, "sunrise", "", &evil)
		refused("wrong RP ID", err)
		// No user verification.
		noUV := *a
		noUV.Flags = passkeystest.FlagUP
		_, _, err = e.login(t, "sunrise", "", &noUV)
		refused("no UV", err)
		// Replay: the same ceremony twice, and an old answer to a new challenge.
		opts, token, err := e.svc.BeginLogin(ctx, "sunrise", "")
		if err != nil {
			t.Fatal(err)
		}
		answer := a.Get(js(t, opts))
		if _, _, err := e.svc.FinishLogin(ctx, "sunrise", token, bytes.NewReader(answer), meta); err != nil {
			t.Fatalf("first finish: %v", err)
		}
		if _, _, err := e.svc.FinishLogin(ctx, "sunrise", token, bytes.NewReader(answer), meta); !errors.Is(err, passkeys.ErrCeremonyInvalid) {
			t.Errorf("replayed ceremony: %v", err)
		}
		_, token2, _ := e.svc.BeginLogin(ctx, "sunrise", "")
		_, _, err = e.svc.FinishLogin(ctx, "sunrise", token2, bytes.NewReader(answer), meta)
		refused("replayed assertion on a new challenge", err)
		// A ceremony of one practice cannot be finished at another.
		opts, token, _ = e.svc.BeginLogin(ctx, "moonrise", "")
		if _, _, err := e.svc.FinishLogin(ctx, "sunrise", token, bytes.NewReader(a.Get(js(t, opts))), meta); !errors.Is(err, passkeys.ErrCeremonyInvalid) {
			t.Errorf("cross-practice ceremony: %v", err)
		}
		// Expired ceremony.
		opts, token, _ = e.svc.BeginLogin(ctx, "sunrise", "")
		e.acc.Clock.Advance(6 * time.Minute)
		if _, _, err := e.svc.FinishLogin(ctx, "sunrise", token, bytes.NewReader(a.Get(js(t, opts))), meta); !errors.Is(err, passkeys.ErrCeremonyInvalid) {
			t.Errorf("expired ceremony: %v", err)
		}
		// Garbage.
		_, token, _ = e.svc.BeginLogin(ctx, "sunrise", "")
		_, _, err = e.svc.FinishLogin(ctx, "sunrise", token, bytes.NewReader([]byte(`{"id":1}`)), meta)
		refused("malformed", err)
	})
}

func TestCounterRegressionRefused(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, lockout.Policy{})
		pr := e.owner(t, "sunrise")
		a, _ := e.register(t, pr)
		for range 3 {
			if _, _, err := e.login(t, "sunrise", "", a); err != nil {
				t.Fatal(err)
			}
		}
		clone := *a
		clone.SignCount = 2 // stored counter is 4
		if _, _, err := e.login(t, "sunrise", "", &clone); !errors.Is(err, account.ErrInvalidCredentials) {
			t.Fatalf("counter regression: %v", err)
		}
		if ev := lastAudit(t, st, pr.Practice.ID, "login"); ev.Outcome != "failure" || ev.Details["reason"] != "counter_regression" {
			t.Errorf("audit = %+v", ev)
		}
		// The stored counter did not move; the genuine authenticator goes on.
		if _, _, err := e.login(t, "sunrise", "", a); err != nil {
			t.Errorf("genuine authenticator after clone attempt: %v", err)
		}
	})
}

func TestRegistrationRules(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		e := newEnv(t, st, lockout.Policy{})
		pr := e.owner(t, "sunrise")
		// Wrong origin, wrong RP ID, no UV.
		for name, mut := range map[string]func(*passkeystest.Authenticator){
			"origin": func(a *passkeystest.Authenticator) { a.Origin = "https://evil.test" },
			"rpid":   func(a *passkeystest.Authenticator) { a.RPID = "evil.test" },
			"uv":     func(a *passkeystest.Authenticator) { a.Flags = passkeystest.FlagUP },
		} {
			a := passkeystest.New(origin, rpID)
			mut(a)
			if _, err := e.tryRegister(t, pr, a, "x"); !errors.Is(err, passkeys.ErrRejected) {
				t.Errorf("%s: %v", name, err)
			}
		}
		if ev := lastAudit(t, st, pr.Practice.ID, "passkey.register"); ev.Outcome != "failure" {
			t.Errorf("failed registration audit = %+v", ev)
		}
		// A ceremony begun in one session cannot be finished in another.
		other := e.member(t, pr, "member-2", "second@sunrise.example")
		opts, token, err := e.svc.BeginRegistration(ctx, pr)
		if err != nil {
			t.Fatal(err)
		}
		a := passkeystest.New(origin, rpID)
		if _, err := e.svc.FinishRegistration(ctx, other, token, "x", bytes.NewReader(a.Create(js(t, opts))), meta); !errors.Is(err, passkeys.ErrCeremonyInvalid) {
			t.Errorf("finish in another session: %v", err)
		}
		// Fresh re-authentication.
		e.acc.Clock.Advance(6 * time.Minute)
		if _, _, err := e.svc.BeginRegistration(ctx, pr); !errors.Is(err, account.ErrReauthRequired) {
			t.Fatalf("stale login: %v", err)
		}
		if _, err := e.acc.Service.Reauthenticate(ctx, pr, "wrong password entirely", meta); !errors.Is(err, account.ErrWrongPassword) {
			t.Errorf("reauth with wrong password: %v", err)
		}
		pr2, err := e.acc.Service.Reauthenticate(ctx, pr, goodPassword, meta)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.svc.BeginRegistration(ctx, pr2); err != nil {
			t.Errorf("after reauth: %v", err)
		}
		// Bad names.
		for _, n := range []string{"   ", "a\x00b", string(make([]byte, 65))} {
			if _, err := passkeys.ValidName(n); err == nil && n != "   " {
				t.Errorf("ValidName(%q) accepted", n)
			}
		}
	})
}

func TestRenameAndRemove(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		e := newEnv(t, st, lockout.Policy{})
		pr := e.owner(t, "sunrise")
		other := e.member(t, pr, "member-2", "second@sunrise.example")
		a, pk := e.register(t, pr)
		if err := e.svc.Rename(ctx, pr, pk.ID, "  Work phone ", meta); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Rename(ctx, other, pk.ID, "mine now", meta); !errors.Is(err, passkeys.ErrNotFound) {
			t.Errorf("rename by another member: %v", err)
		}
		if err := e.svc.Rename(ctx, pr, pk.ID, "", meta); !errors.Is(err, passkeys.ErrInvalidName) {
			t.Errorf("empty name: %v", err)
		}
		list, _ := e.svc.List(ctx, pr)
		if len(list) != 1 || list[0].Name != "Work phone" {
			t.Errorf("after rename = %+v", list)
		}
		if err := e.svc.Remove(ctx, other, pk.ID, meta); !errors.Is(err, passkeys.ErrNotFound) {
			t.Errorf("remove by another member: %v", err)
		}
		if err := e.svc.Remove(ctx, pr, pk.ID, meta); err != nil {
			t.Fatal(err)
		}
		if ev := lastAudit(t, st, pr.Practice.ID, "passkey.remove"); ev.Details["passkey"] != pk.ID {
			t.Errorf("remove audit = %+v", ev)
		}
		if _, _, err := e.login(t, "sunrise", "", a); !errors.Is(err, account.ErrInvalidCredentials) {
			t.Errorf("login with removed passkey: %v", err)
		}
		if ev := lastAudit(t, st, pr.Practice.ID, "login"); ev.Details["reason"] != "unknown_credential" {
			t.Errorf("audit reason = %q", ev.Details["reason"])
		}
	})
}

func TestLockoutPolicy(t *testing.T) {
	for _, tt := range []struct {
		blocks lockout.Blocks
		ok     bool
	}{{lockout.BlocksPassword, true}, {lockout.BlocksAll, false}} {
		t.Run(string(tt.blocks), func(t *testing.T) {
			storetest.ForEachEngine(t, func(t *testing.T, st *store.Store) {
				ctx := context.Background()
				e := newEnv(t, st, lockout.Policy{Threshold: 3, Blocks: tt.blocks})
				pr := e.owner(t, "sunrise")
				a, _ := e.register(t, pr)
				if err := st.SetMemberStatus(ctx, pr.Member.ID, store.StatusLocked, e.acc.Clock.Now()); err != nil {
					t.Fatal(err)
				}
				// A password login is refused either way.
				if _, _, err := e.acc.Service.Login(ctx, "sunrise", pr.Member.Email, goodPassword, meta); !errors.Is(err, account.ErrInvalidCredentials) {
					t.Errorf("password login while locked: %v", err)
				}
				_, _, err := e.login(t, "sunrise", "", a)
				if tt.ok && err != nil {
					t.Errorf("passkey login under blocks=password: %v", err)
				}
				if !tt.ok {
					if !errors.Is(err, account.ErrInvalidCredentials) {
						t.Errorf("passkey login under blocks=all: %v", err)
					}
					if ev := lastAudit(t, st, pr.Practice.ID, "login"); ev.Details["reason"] != "locked" || ev.Details["method"] != "hwk" {
						t.Errorf("audit = %+v", ev)
					}
				}
				// A deactivated member never logs in.
				if err := st.SetMemberStatus(ctx, pr.Member.ID, store.StatusDeactivated, e.acc.Clock.Now()); err != nil {
					t.Fatal(err)
				}
				if _, _, err := e.login(t, "sunrise", "", a); !errors.Is(err, account.ErrInvalidCredentials) {
					t.Errorf("deactivated member: %v", err)
				}
			})
		})
	}
}

type onlyOwner struct{ id string }

func (o onlyOwner) Allowed(_ context.Context, _, memberID, perm string) (bool, error) {
	return memberID == o.id && perm == roles.PermManageMembers, nil
}
func (o onlyOwner) Holders(context.Context, string, string) ([]string, error) {
	return []string{o.id}, nil
}

func TestRevokeMember(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		e := newEnv(t, st, lockout.Policy{})
		pr := e.owner(t, "sunrise")
		other := e.member(t, pr, "member-2", "second@sunrise.example")
		svc := passkeystest.NewService(t, st, e.acc.Service, e.acc.Clock.Now, func(d *passkeys.Deps, _ *passkeys.Config) {
			d.Permissions = onlyOwner{pr.Member.ID}
		})
		e.svc = svc
		b, _ := e.register(t, other)
		_, _ = e.register(t, other)
		_, token, err := e.login(t, "sunrise", "", b)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.RevokeMember(ctx, "sunrise", pr.Member.ID, account.Actor{MemberID: other.Member.ID}, meta); !errors.Is(err, account.ErrForbidden) {
			t.Errorf("revoke without permission: %v", err)
		}
		if _, err := svc.RevokeMember(ctx, "sunrise", "nobody", account.Operator(), meta); !errors.Is(err, account.ErrMemberNotFound) {
			t.Errorf("revoke unknown member: %v", err)
		}
		n, err := svc.RevokeMember(ctx, "sunrise", other.Member.ID, account.Actor{MemberID: pr.Member.ID}, meta)
		if err != nil || n != 2 {
			t.Fatalf("RevokeMember = %d, %v", n, err)
		}
		if _, err := e.acc.Service.Authenticate(ctx, "sunrise", token); !errors.Is(err, account.ErrNoSession) {
			t.Errorf("passkey session after revocation: %v", err)
		}
		if _, _, err := e.login(t, "sunrise", "", b); !errors.Is(err, account.ErrInvalidCredentials) {
			t.Errorf("login after revocation: %v", err)
		}
		if ev := lastAudit(t, st, pr.Practice.ID, "passkey.revoke_all"); ev.ActorID != pr.Member.ID || ev.Details["removed"] != "2" {
			t.Errorf("audit = %+v", ev)
		}
	})
}

// Failed passkey logins never count toward the password lockout.
func TestPasskeyFailuresDoNotCountTowardLockout(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		clock := accounttest.NewClock(time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC))
		guard := lockout.New(lockout.NewSQLCounter(st, clock.Now), lockout.Settings{AddressLimit: 100, AddressWindow: time.Hour})
		acc := accounttest.New(t, st, accounttest.Options{Guard: guard, Clock: clock, Lockout: lockout.Policy{Threshold: 3, Blocks: lockout.BlocksPassword}})
		e := &env{acc: acc, svc: passkeystest.NewService(t, st, acc.Service, clock.Now), st: st}
		pr := e.owner(t, "sunrise")
		a, _ := e.register(t, pr)
		for range 5 {
			clone := *a
			clone.SignCount = 0
			if _, _, err := e.login(t, "sunrise", "", &clone); !errors.Is(err, account.ErrInvalidCredentials) {
				t.Fatalf("clone login: %v", err)
			}
		}
		m, err := st.MemberByID(ctx, pr.Practice.ID, pr.Member.ID)
		if err != nil || m.Status != store.StatusActive {
			t.Fatalf("member after failed passkey logins: %v %v", m.Status, err)
		}
		if _, _, err := acc.Service.Login(ctx, "sunrise", pr.Member.Email, goodPassword, meta); err != nil {
			t.Errorf("password login after failed passkey logins: %v", err)
		}
	})
}
