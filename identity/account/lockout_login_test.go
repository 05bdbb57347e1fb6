package account_test

// Login flows against real counters: three in-process replicas over one
// PostgreSQL and one Redis, case variants, windows, unlock, a lock landing
// during an in-flight login, spraying from one address, and Redis stopped in
// the middle of a run.

import (
	"context"
	"errors"
	"fmt"
	"slices"
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
	"github.com/frontdeskhq/frontdesk/lockout"
	"github.com/frontdeskhq/frontdesk/lockout/lockouttest"
)

const (
	rightPassword = "violet harbor lantern seventeen"
	wrongPassword = "violet harbor lantern eighteen"
	victimEmail   = "clara.clinician@example.org"
	ownerEmail    = "olive.owner@example.org"
	attacker      = "203.0.113.66"
)

// heldHasher counts real password evaluations (not dummy ones) and can
// hold an evaluation of one password until released.
type heldHasher struct {
	account.PasswordHasher
	verified atomic.Int64
	holdPW   atomic.Pointer[string]
	held     chan struct{} // closed when the held evaluation has started
	release  chan struct{} // close to let it finish
}

// hold makes the next evaluation of pw wait for release.
func (h *heldHasher) hold(pw string) { h.holdPW.Store(&pw) }

func (h *heldHasher) Verify(ctx context.Context, encoded, pw string) (bool, bool, error) {
	h.verified.Add(1)
	if p := h.holdPW.Load(); p != nil && *p == pw && h.holdPW.CompareAndSwap(p, nil) {
		close(h.held)
		<-h.release
	}
	return h.PasswordHasher.Verify(ctx, encoded, pw)
}

type world struct {
	st       *store.Store
	replicas []*accounttest.Env
	hasher   *heldHasher
	clock    *accounttest.Clock
	slug     string
	victimID string
	ownerID  string
}

type worldOpts struct {
	replicas int
	counter  func(clock *accounttest.Clock) lockout.Counter
	settings lockout.Settings
	policy   lockout.Policy
	// recoveryGrace > 0 rebuilds counts a Redis lost from the store's audit
	// trail, with that grace measured on the world's clock.
	recoveryGrace time.Duration
}

// newWorld builds replicas sharing st and one counter, and a practice with an
// active owner and an active clinician (the victim), both with rightPassword.
func newWorld(t *testing.T, st *store.Store, o worldOpts) *world {
	t.Helper()
	w := &world{st: st, clock: accounttest.NewClock(time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)),
		hasher: &heldHasher{held: make(chan struct{}), release: make(chan struct{})}}
	set := o.settings
	if o.recoveryGrace > 0 {
		set.Durable, set.RecoveryGrace, set.Now = st, o.recoveryGrace, w.clock.Now
	}
	guard := lockout.New(o.counter(w.clock), set)
	for i := range max(o.replicas, 1) {
		w.replicas = append(w.replicas, accounttest.New(t, st, accounttest.Options{
			Guard: guard, Lockout: o.policy, Clock: w.clock, IDPrefix: fmt.Sprintf("r%d-", i),
			WrapHasher: func(h account.PasswordHasher) account.PasswordHasher {
				w.hasher.PasswordHasher = h
				return w.hasher
			},
		}))
	}
	ctx := context.Background()
	w.slug = "sunrise"
	created, err := w.svc(0).CreatePractice(ctx, account.NewPractice{Slug: w.slug, Name: "Sunrise Therapy",
		OwnerEmail: ownerEmail}, account.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	w.ownerID = created.OwnerID
	hash, err := password.NewHasher(accounttest.FastParams, 1).Hash(ctx, rightPassword)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SetPassword(ctx, w.ownerID, hash, w.clock.Now(), true); err != nil {
		t.Fatal(err)
	}
	w.victimID = "victim-1"
	if err := st.CreateMember(ctx, store.Member{ID: w.victimID, PracticeID: created.PracticeID, Email: victimEmail,
		Status: store.StatusActive, Roles: []string{"clinician"}, PasswordHash: hash, CreatedAt: w.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *world) svc(i int) *account.Service { return w.replicas[i%len(w.replicas)].Service }

// unlock unlocks as the CLI does: the practice by its slug, then the lockout
// feature's Unlock by email.
func (w *world) unlock(ctx context.Context, i int, slug, email string, actor account.Actor, meta account.Meta) (lockout.UnlockResult, error) {
	p, err := w.svc(i).Practice(ctx, slug)
	if err != nil {
		return lockout.UnlockResult{}, err
	}
	return w.svc(i).Locks().Unlock(ctx, p.Lockout(), email, lockout.Actor(actor), lockout.Meta(meta))
}

func (w *world) login(i int, email, pw, addr string) error {
	_, _, err := w.svc(i).Login(context.Background(), w.slug, email, pw, account.Meta{ClientAddr: addr})
	return err
}

func (w *world) member(t *testing.T, id string) store.Member {
	t.Helper()
	p, err := w.st.PracticeBySlug(context.Background(), w.slug)
	if err != nil {
		t.Fatal(err)
	}
	m, err := w.st.MemberByID(context.Background(), p.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// metric sums a counter over every replica's registry.
func (w *world) metric(t *testing.T, name string) float64 {
	t.Helper()
	var sum float64
	for _, r := range w.replicas {
		mfs, err := r.Registry.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() == name {
				for _, m := range mf.GetMetric() {
					sum += m.GetCounter().GetValue()
				}
			}
		}
	}
	return sum
}

func (w *world) mails(to string) []string {
	var subjects []string
	for _, r := range w.replicas {
		for _, m := range r.Mail.Messages() {
			if m.To == to {
				subjects = append(subjects, m.Subject)
			}
		}
	}
	return subjects
}

func (w *world) audit(t *testing.T, action string) []store.AuditEvent {
	t.Helper()
	p, _ := w.st.PracticeBySlug(context.Background(), w.slug)
	all, err := w.st.ListAudit(context.Background(), p.ID, 10000)
	if err != nil {
		t.Fatal(err)
	}
	var out []store.AuditEvent
	for _, e := range all {
		if e.Action == action {
			out = append(out, e)
		}
	}
	return out
}

func redisCounter(t *testing.T) func(*accounttest.Clock) lockout.Counter {
	c := lockouttest.Counter(t)
	return func(*accounttest.Clock) lockout.Counter { return c }
}

func sqlCounter(st *store.Store) func(*accounttest.Clock) lockout.Counter {
	return func(clock *accounttest.Clock) lockout.Counter { return lockout.NewSQLCounter(st, clock.Now) }
}

func spellings(email string) []string {
	at := strings.IndexByte(email, '@')
	return []string{email, strings.ToUpper(email), strings.ToUpper(email[:1]) + email[1:],
		email[:at] + strings.ToUpper(email[at:]), " " + email + " "}
}

// TestThreeReplicasBound is the bound: 200 parallel wrong guesses over
// three replicas sharing PostgreSQL and Redis, in every spelling of the
// address, evaluate at most three passwords (each guess is refused as wrong,
// or as busy while the three counted ones are in flight); the correct
// password afterwards does not log in; the account is locked once, with one
// lock record, audit event and mail; unlock restores login.
func TestThreeReplicasBound(t *testing.T) {
	st := storetest.Open(t, store.Postgres)
	w := newWorld(t, st, worldOpts{replicas: 3, counter: redisCounter(t),
		settings: lockout.Settings{AddressLimit: 0}})
	names := spellings(victimEmail)
	var wg sync.WaitGroup
	var refused, busy atomic.Int64
	for i := range 200 {
		wg.Go(func() {
			err := w.login(i, names[i%len(names)], wrongPassword, fmt.Sprintf("198.51.100.%d", i%50))
			if errors.Is(err, account.ErrInvalidCredentials) {
				refused.Add(1)
			} else if errors.Is(err, account.ErrBusy) {
				busy.Add(1)
			} else {
				t.Errorf("guess %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if n := w.hasher.verified.Load(); n > 3 {
		t.Fatalf("%d passwords evaluated for 200 parallel guesses; at most 3 allowed", n)
	}
	if got := w.metric(t, "frontdesk_password_verifications_total"); got > 3 {
		t.Errorf("verifications metric %v > 3", got)
	}
	if refused.Load()+busy.Load() != 200 || refused.Load() < 3 {
		t.Errorf("%d guesses refused and %d busy, want 200 in all and at least the 3 evaluated refused",
			refused.Load(), busy.Load())
	}
	if m := w.member(t, w.victimID); m.Status != store.StatusLocked {
		t.Fatalf("victim status %s, want locked", m.Status)
	}
	before := w.hasher.verified.Load()
	for i := range 3 {
		if err := w.login(i, victimEmail, rightPassword, "192.0.2.10"); !errors.Is(err, account.ErrInvalidCredentials) {
			t.Fatalf("correct password after the lock on replica %d: %v", i, err)
		}
	}
	if w.hasher.verified.Load() != before {
		t.Error("a locked account's password was evaluated")
	}

	locks, err := st.MemberLocks(context.Background(), w.member(t, w.victimID).PracticeID, w.victimID)
	if err != nil || len(locks) != 1 || locks[0].Attempts < 3 || len(locks[0].Addresses) == 0 || !locks[0].UnlockedAt.IsZero() {
		t.Fatalf("lock records = %+v, %v", locks, err)
	}
	if got := w.metric(t, "frontdesk_lockouts_total"); got != 1 {
		t.Errorf("frontdesk_lockouts_total = %v, want 1", got)
	}
	if ev := w.audit(t, "member.lock"); len(ev) != 1 || ev[0].SubjectID != w.victimID || ev[0].Details["attempts"] == "" {
		t.Errorf("member.lock audit = %+v", ev)
	}
	if m := w.mails(victimEmail); len(m) != 1 || !strings.Contains(m[0], "Your Sunrise Therapy account was locked") {
		t.Errorf("mails to the member: %q", m)
	}
	if m := w.mails(ownerEmail); len(m) != 2 || !strings.Contains(strings.Join(m, "|"), "Account locked at Sunrise Therapy: clara.clinician@example.org") {
		t.Errorf("mails to the owner (setup + lock notice): %q", m)
	}

	// Unlock through another replica, as the owner; log in on a third.
	res, err := w.unlock(context.Background(), 1, w.slug, strings.ToUpper(victimEmail),
		account.Actor{MemberID: w.ownerID}, account.Meta{ClientAddr: "192.0.2.1"})
	if err != nil || !res.WasLocked {
		t.Fatalf("Unlock = %+v, %v", res, err)
	}
	if err := w.login(2, victimEmail, rightPassword, "192.0.2.10"); err != nil {
		t.Fatalf("login after unlock: %v", err)
	}
	if got := w.metric(t, "frontdesk_unlocks_total"); got != 1 {
		t.Errorf("frontdesk_unlocks_total = %v", got)
	}
	if ev := w.audit(t, "member.unlock"); len(ev) != 1 || ev[0].ActorID != w.ownerID || ev[0].Outcome != "success" {
		t.Errorf("member.unlock audit = %+v", ev)
	}
	if m := w.mails(victimEmail); len(m) != 2 || !slices.Contains(m, "Your Sunrise Therapy account was unlocked") {
		t.Errorf("mails to the member after unlock: %q", m)
	}
	locks, _ = st.MemberLocks(context.Background(), w.member(t, w.victimID).PracticeID, w.victimID)
	if len(locks) != 1 || locks[0].UnlockedAt.IsZero() || locks[0].UnlockedBy != w.ownerID {
		t.Errorf("lock record after unlock = %+v", locks)
	}
}

// TestCaseVariantsShareTheCount runs on the embedded default (SQL counters)
// on both engines.
func TestCaseVariantsShareTheCount(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st, worldOpts{counter: sqlCounter(st), settings: lockout.Settings{AddressLimit: 30}})
		for i, e := range []string{"Clara.Clinician@example.org", "CLARA.CLINICIAN@EXAMPLE.ORG", "clara.clinician@Example.Org"} {
			if err := w.login(0, e, wrongPassword, attacker); !errors.Is(err, account.ErrInvalidCredentials) {
				t.Fatalf("guess %d: %v", i, err)
			}
		}
		if m := w.member(t, w.victimID); m.Status != store.StatusLocked {
			t.Fatalf("status after three wrong guesses in three spellings: %s", m.Status)
		}
		if err := w.login(0, victimEmail, rightPassword, "192.0.2.10"); !errors.Is(err, account.ErrInvalidCredentials) {
			t.Fatalf("correct password on a locked account: %v", err)
		}
		if w.hasher.verified.Load() != 3 {
			t.Errorf("%d evaluations, want 3", w.hasher.verified.Load())
		}
		// Operator unlock, audited as "operator".
		if _, err := w.unlock(context.Background(), 0, w.slug, victimEmail, account.Operator(), account.Meta{}); err != nil {
			t.Fatal(err)
		}
		if ev := w.audit(t, "member.unlock"); len(ev) != 1 || ev[0].ActorID != lockout.OperatorActorID {
			t.Errorf("operator unlock audit = %+v", ev)
		}
		if err := w.login(0, victimEmail, rightPassword, "192.0.2.10"); err != nil {
			t.Fatalf("login after unlock: %v", err)
		}
	})
}

func TestWindowExpiry(t *testing.T) {
	check := func(t *testing.T, w *world, wait func()) {
		t.Helper()
		for range 2 {
			if err := w.login(0, victimEmail, wrongPassword, attacker); !errors.Is(err, account.ErrInvalidCredentials) {
				t.Fatal(err)
			}
		}
		wait()
		for range 2 {
			if err := w.login(0, victimEmail, wrongPassword, attacker); !errors.Is(err, account.ErrInvalidCredentials) {
				t.Fatal(err)
			}
		}
		if m := w.member(t, w.victimID); m.Status != store.StatusActive {
			t.Fatalf("locked although the first failures left the window: %s", m.Status)
		}
		if err := w.login(0, victimEmail, wrongPassword, attacker); !errors.Is(err, account.ErrInvalidCredentials) {
			t.Fatal(err)
		}
		if m := w.member(t, w.victimID); m.Status != store.StatusLocked {
			t.Fatalf("not locked after three failures within the window: %s", m.Status)
		}
	}
	storetest.ForEachEngine(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st, worldOpts{counter: sqlCounter(st), policy: lockout.Policy{Threshold: 3,
			Window: 10 * time.Minute, Blocks: lockout.BlocksPassword}})
		check(t, w, func() { w.clock.Advance(11 * time.Minute) })
	})
	t.Run("redis", func(t *testing.T) {
		st := storetest.Open(t, store.SQLite)
		c, advance := lockouttest.CounterAdvance(t)
		w := newWorld(t, st, worldOpts{counter: func(*accounttest.Clock) lockout.Counter { return c },
			policy: lockout.Policy{Threshold: 3, Window: 10 * time.Minute, Blocks: lockout.BlocksPassword}})
		check(t, w, func() { advance(11 * time.Minute) })
	})
}

// TestPracticeSettingsOverride: a practice's own threshold wins over the
// configured default.
func TestPracticeSettingsOverride(t *testing.T) {
	st := storetest.Open(t, store.SQLite)
	w := newWorld(t, st, worldOpts{counter: sqlCounter(st)})
	ctx := context.Background()
	p, _ := st.PracticeBySlug(ctx, w.slug)
	p.Settings = map[string]any{"lockout": map[string]any{"threshold": 5.0, "blocks": "all"}}
	if pol := w.svc(0).Locks().Policy(ctx, p.Lockout()); pol.Threshold != 5 || pol.Blocks != lockout.BlocksAll {
		t.Errorf("LockoutPolicy = %+v", pol)
	}
	m := w.member(t, w.victimID)
	m.Status = store.StatusLocked
	if !w.svc(0).Locks().LockBlocks(ctx, p.Lockout(), m.Lockout(), "hwk") {
		t.Error("blocks: all does not block passkeys")
	}
	p.Settings = nil
	if w.svc(0).Locks().LockBlocks(ctx, p.Lockout(), m.Lockout(), "hwk") || !w.svc(0).Locks().LockBlocks(ctx, p.Lockout(), m.Lockout(), "pwd") {
		t.Error("default blocks: password only")
	}
}

func TestUnlockPermission(t *testing.T) {
	st := storetest.Open(t, store.SQLite)
	w := newWorld(t, st, worldOpts{counter: sqlCounter(st)})
	ctx := context.Background()
	for range 3 {
		_ = w.login(0, ownerEmail, wrongPassword, attacker)
	}
	// The clinician may not unlock; a member of another practice neither.
	if _, err := w.unlock(ctx, 0, w.slug, ownerEmail, account.Actor{MemberID: w.victimID}, account.Meta{}); !errors.Is(err, lockout.ErrForbidden) {
		t.Errorf("clinician unlock: %v", err)
	}
	if _, err := w.unlock(ctx, 0, w.slug, ownerEmail, account.Actor{MemberID: "nobody"}, account.Meta{}); !errors.Is(err, lockout.ErrForbidden) {
		t.Errorf("unknown actor unlock: %v", err)
	}
	// A locked owner cannot unlock themselves.
	if _, err := w.unlock(ctx, 0, w.slug, ownerEmail, account.Actor{MemberID: w.ownerID}, account.Meta{}); !errors.Is(err, lockout.ErrForbidden) {
		t.Errorf("locked owner unlocking themselves: %v", err)
	}
	if _, err := w.unlock(ctx, 0, w.slug, "nobody@example.org", account.Operator(), account.Meta{}); !errors.Is(err, lockout.ErrMemberNotFound) {
		t.Errorf("unknown member: %v", err)
	}
	if _, err := w.unlock(ctx, 0, "nowhere", ownerEmail, account.Operator(), account.Meta{}); !errors.Is(err, account.ErrPracticeNotFound) {
		t.Errorf("unknown practice: %v", err)
	}
	if w.member(t, w.ownerID).Status != store.StatusLocked {
		t.Fatal("a refused unlock unlocked")
	}
	if ev := w.audit(t, "member.unlock"); len(ev) != 3 || ev[0].Outcome != "failure" {
		t.Errorf("refused unlocks audit = %+v", ev)
	}
	res, err := w.unlock(ctx, 0, w.slug, ownerEmail, account.Operator(), account.Meta{})
	if err != nil || !res.WasLocked {
		t.Fatalf("operator unlock: %+v, %v", res, err)
	}
	// Unlocking an unlocked member clears the count and says so.
	if res, err := w.unlock(ctx, 0, w.slug, ownerEmail, account.Operator(), account.Meta{}); err != nil || res.WasLocked {
		t.Errorf("second unlock: %+v, %v", res, err)
	}
}

// TestLockDuringInFlightLogin: a correct password being checked is not a
// failure — two wrong guesses beside it do not lock, and a third is answered
// busy without being evaluated while the three slots are taken. When the lock
// lands while the correct password is being checked (written by another
// replica), that login gets no session. A session from before the lock
// lives on.
func TestLockDuringInFlightLogin(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st, worldOpts{counter: sqlCounter(st)})
		ctx := context.Background()
		_, earlier, err := w.svc(0).Login(ctx, w.slug, victimEmail, rightPassword, account.Meta{})
		if err != nil {
			t.Fatal(err)
		}
		w.hasher.hold(rightPassword)
		done := make(chan error, 1)
		go func() { done <- w.login(0, victimEmail, rightPassword, "192.0.2.40") }()
		<-w.hasher.held // the correct password holds count 1 and is being checked
		for range 2 {
			if err := w.login(0, victimEmail, wrongPassword, attacker); !errors.Is(err, account.ErrInvalidCredentials) {
				t.Fatal(err)
			}
		}
		if st := w.member(t, w.victimID).Status; st != store.StatusActive {
			t.Fatalf("status after two failures beside a correct login = %s, want active", st)
		}
		before := w.hasher.verified.Load()
		if err := w.login(0, victimEmail, wrongPassword, attacker); !errors.Is(err, account.ErrBusy) {
			t.Fatalf("a guess while the three counted attempts are in flight: %v, want ErrBusy", err)
		}
		if w.hasher.verified.Load() != before {
			t.Error("a guess past the three counted attempts was evaluated")
		}
		// The lock lands now, while the correct password is being checked.
		if err := st.SetMemberStatus(ctx, w.victimID, store.StatusLocked, time.Now()); err != nil {
			t.Fatal(err)
		}
		close(w.hasher.release)
		if err := <-done; !errors.Is(err, account.ErrInvalidCredentials) {
			t.Fatalf("in-flight login after the lock: %v, want refusal", err)
		}
		if ev := w.audit(t, "login"); countOutcome(ev, "success") != 1 {
			t.Errorf("%d successful logins, want only the earlier one", countOutcome(ev, "success"))
		}
		if _, err := w.svc(0).Authenticate(ctx, w.slug, earlier); err != nil {
			t.Errorf("a session from before the lock was ended: %v", err)
		}
	})
}

func countOutcome(ev []store.AuditEvent, outcome string) int {
	n := 0
	for _, e := range ev {
		if e.Outcome == outcome {
			n++
		}
	}
	return n
}

// TestSpraying: one address guessing across many accounts is throttled with
// a retry time, and none of the accounts it tried is locked.
func TestSpraying(t *testing.T) {
	run := func(t *testing.T, st *store.Store, counter func(*accounttest.Clock) lockout.Counter) {
		w := newWorld(t, st, worldOpts{counter: counter, settings: lockout.Settings{AddressLimit: 5, AddressWindow: time.Hour}})
		ctx := context.Background()
		p, _ := st.PracticeBySlug(ctx, w.slug)
		var victims []string
		for i := range 10 {
			id := fmt.Sprintf("m-%d", i)
			email := fmt.Sprintf("member%d@example.org", i)
			if err := st.CreateMember(ctx, store.Member{ID: id, PracticeID: p.ID, Email: email, Status: store.StatusActive,
				PasswordHash: w.member(t, w.victimID).PasswordHash, CreatedAt: w.clock.Now()}); err != nil {
				t.Fatal(err)
			}
			victims = append(victims, email)
		}
		for round := range 3 {
			for i, email := range victims {
				err := w.login(0, email, wrongPassword, attacker)
				n := round*len(victims) + i
				var te *lockout.ThrottledError
				switch {
				case n < 5 && !errors.Is(err, account.ErrInvalidCredentials):
					t.Fatalf("guess %d: %v, want a plain refusal", n, err)
				case n >= 5 && (!errors.As(err, &te) || te.RetryAfter <= 0 || te.RetryAfter > time.Hour):
					t.Fatalf("guess %d: %v, want ThrottledError", n, err)
				}
			}
		}
		if got := w.hasher.verified.Load(); got != 5 {
			t.Errorf("%d passwords evaluated, want 5", got)
		}
		for i := range 10 {
			if m := w.member(t, fmt.Sprintf("m-%d", i)); m.Status != store.StatusActive {
				t.Errorf("sprayed member %d is %s", i, m.Status)
			}
		}
		// The victims log in from their own addresses.
		for _, email := range victims {
			if err := w.login(0, email, rightPassword, "192.0.2.20"); err != nil {
				t.Errorf("%s after the spray: %v", email, err)
			}
		}
		// IPv6 neighbours in the attacker's /64 are throttled together.
		for i := range 5 {
			_ = w.login(0, victims[i], wrongPassword, fmt.Sprintf("2001:db8:aa:bb::%x", i+1))
		}
		if err := w.login(0, victims[0], rightPassword, "2001:db8:aa:bb::ffff"); !errors.Is(err, lockout.ErrThrottled) {
			t.Errorf("same /64: %v", err)
		}
		if ev := w.audit(t, "login.throttle"); len(ev) != 2 {
			t.Errorf("login.throttle audit events = %d, want 2", len(ev))
		}
	}
	storetest.ForEachEngine(t, func(t *testing.T, st *store.Store) { run(t, st, sqlCounter(st)) })
	t.Run("redis", func(t *testing.T) { run(t, storetest.Open(t, store.Postgres), redisCounter(t)) })
}

// TestRedisStoppedMidRun stops a private Redis in the middle of a run: no
// password is evaluated while it is down, and logins recover when it returns.
// The durable lock outlives Redis's lost counters.
func TestRedisStoppedMidRun(t *testing.T) {
	srv := lockouttest.StartServer(t)
	client := srv.Client()
	st := storetest.Open(t, store.Postgres)
	counter := lockout.NewRedisCounter(client, "frontdesk:lockout:")
	w := newWorld(t, st, worldOpts{replicas: 2, counter: func(*accounttest.Clock) lockout.Counter { return counter },
		settings: lockout.Settings{AddressLimit: 30, AddressWindow: time.Hour}})
	ctx := context.Background()

	// Lock the owner while Redis is up; log the clinician in.
	for range 3 {
		_ = w.login(0, ownerEmail, wrongPassword, attacker)
	}
	if w.member(t, w.ownerID).Status != store.StatusLocked {
		t.Fatal("owner not locked")
	}
	if err := w.login(1, victimEmail, rightPassword, "192.0.2.30"); err != nil {
		t.Fatal(err)
	}
	before := w.hasher.verified.Load()

	srv.Stop()
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			pw := wrongPassword
			if i%2 == 0 {
				pw = rightPassword
			}
			if err := w.login(i, victimEmail, pw, attacker); !errors.Is(err, account.ErrUnavailable) {
				t.Errorf("attempt %d with Redis down: %v, want ErrUnavailable", i, err)
			}
		})
	}
	wg.Wait()
	if got := w.hasher.verified.Load(); got != before {
		t.Fatalf("%d passwords evaluated while Redis was down", got-before)
	}
	if w.member(t, w.victimID).Status != store.StatusActive {
		t.Error("refusals while Redis was down locked the clinician")
	}

	srv.Start() // empty: the counters are gone; it returns once the server answers
	if err := w.login(0, victimEmail, rightPassword, "192.0.2.30"); err != nil {
		t.Fatalf("login after Redis returned: %v", err)
	}
	// The owner's lock lives in the database, not in Redis.
	before = w.hasher.verified.Load()
	if err := w.login(1, ownerEmail, rightPassword, "192.0.2.31"); !errors.Is(err, account.ErrInvalidCredentials) {
		t.Fatalf("locked owner after Redis lost its counters: %v", err)
	}
	if w.hasher.verified.Load() != before {
		t.Error("the locked owner's password was evaluated")
	}
	if _, err := w.unlock(ctx, 1, w.slug, ownerEmail, account.Operator(), account.Meta{}); err != nil {
		t.Fatal(err)
	}
	if err := w.login(0, ownerEmail, rightPassword, "192.0.2.31"); err != nil {
		t.Fatalf("owner after unlock: %v", err)
	}
}
