package roles_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/problem"
	"github.com/frontdeskhq/frontdesk/identity/roles"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
	"github.com/frontdeskhq/frontdesk/invites"
	"github.com/frontdeskhq/frontdesk/templates"
)

var t0 = time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)

type fixture struct {
	st      *store.Store
	svc     *roles.Service
	now     time.Time
	notices []roles.ElevationNotice
	mu      sync.Mutex
	pid     string
}

func (f *fixture) actor(id string) roles.Actor { return roles.Actor{PracticeID: f.pid, MemberID: id} }

func (f *fixture) member(t *testing.T, id string, held ...string) {
	t.Helper()
	err := f.st.CreateMember(context.Background(), store.Member{ID: id, PracticeID: f.pid, Email: id + "@example.org",
		Status: store.StatusActive, Roles: held, CreatedAt: t0})
	if err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) perms(t *testing.T, id string) roles.Effective {
	t.Helper()
	eff, err := f.svc.Effective(context.Background(), f.pid, id)
	if err != nil {
		t.Fatalf("Effective(%s): %v", id, err)
	}
	return eff
}

// newFixture creates practice "p1" with the preset installed.
func newFixture(t *testing.T, st *store.Store, preset string) *fixture {
	t.Helper()
	f := &fixture{st: st, now: t0, pid: "p1"}
	n := 0
	svc, err := roles.New(roles.Deps{Store: st,
		Now:   func() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.now },
		NewID: func() string { f.mu.Lock(); defer f.mu.Unlock(); n++; return fmt.Sprintf("id-%d", n) },
		Notify: func(_ context.Context, n roles.ElevationNotice) error {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.notices = append(f.notices, n)
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	f.svc = svc
	ctx := context.Background()
	err = st.InTx(ctx, func(tx *store.Store) error {
		if err := tx.CreatePractice(ctx, store.Practice{ID: f.pid, Slug: "p1", Name: "P1", CreatedAt: t0}); err != nil {
			return err
		}
		_, err := roles.Install(ctx, tx, f.pid, preset, t0)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func lastAudit(t *testing.T, st *store.Store, pid string) store.AuditEvent {
	t.Helper()
	evs, err := st.ListAudit(context.Background(), pid, 1)
	if err != nil || len(evs) != 1 {
		t.Fatalf("ListAudit: %v %v", evs, err)
	}
	return evs[0]
}

func TestEffectiveReflectsChangesAtOnce(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := newFixture(t, st, "zencare")
		f.member(t, "own", "owner")
		f.member(t, "ther", "therapist")
		if _, err := f.svc.Effective(ctx, f.pid, "nobody"); !errors.Is(err, roles.ErrMemberNotFound) {
			t.Fatalf("unknown member: %v", err)
		}
		if _, err := f.svc.Effective(ctx, "other-practice", "ther"); !errors.Is(err, roles.ErrMemberNotFound) {
			t.Fatalf("member of another practice: %v", err)
		}
		eff := f.perms(t, "ther")
		if !slices.Equal(eff.Roles, []string{"therapist"}) || roles.Allows(eff.Permissions, "clients.view:all") ||
			!roles.Allows(eff.Permissions, "clients.view:assigned") || !slices.IsSorted(eff.Permissions) {
			t.Fatalf("therapist with default toggles: %+v", eff)
		}
		// Practice toggle: therapists see every client's contact details.
		if err := f.svc.SetToggle(ctx, f.actor("own"), "therapists_own_clients_only", false, roles.Meta{RequestID: "r1"}); err != nil {
			t.Fatal(err)
		}
		if !roles.Allows(f.perms(t, "ther").Permissions, "clients.view:all") {
			t.Fatal("toggle off did not widen therapists")
		}
		ev := lastAudit(t, st, f.pid)
		if ev.Action != "role.toggle" || ev.Outcome != "success" || ev.ActorID != "own" || ev.RequestID != "r1" ||
			ev.Details["before"] != "true" || ev.Details["after"] != "false" {
			t.Fatalf("toggle audit = %+v", ev)
		}
		// Member override: no billing for this therapist.
		if err := f.svc.SetMemberOverrides(ctx, f.actor("own"), "ther", []roles.Override{{Permission: "billing.view:own", Grant: false}}, roles.Meta{}); err != nil {
			t.Fatal(err)
		}
		if roles.Allows(f.perms(t, "ther").Permissions, "billing.view:own") {
			t.Fatal("override did not deny billing")
		}
		ev = lastAudit(t, st, f.pid)
		if ev.Action != "role.override" || ev.SubjectID != "ther" || ev.Details["before"] != "" || ev.Details["after"] != "-billing.view:own" {
			t.Fatalf("override audit = %+v", ev)
		}
		// Roles.
		if err := f.svc.SetMemberRoles(ctx, f.actor("own"), "ther", []string{"office_admin"}, roles.Meta{}); err != nil {
			t.Fatal(err)
		}
		if eff := f.perms(t, "ther"); !slices.Equal(eff.Roles, []string{"office_admin"}) {
			t.Fatalf("roles after change = %v", eff.Roles)
		}
		ev = lastAudit(t, st, f.pid)
		if ev.Action != "role.assign" || ev.Details["before"] != "therapist" || ev.Details["after"] != "office_admin" {
			t.Fatalf("assign audit = %+v", ev)
		}
		// A deactivated member has no effective permissions.
		if err := st.SetMemberStatus(ctx, "ther", store.StatusDeactivated, t0); err != nil {
			t.Fatal(err)
		}
		if ok, err := f.svc.Allowed(ctx, f.pid, "ther", "clients.view:own"); ok || err != nil {
			t.Fatalf("deactivated member allowed = %v, %v", ok, err)
		}
	})
}

func TestAdministrationRules(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := newFixture(t, st, "therapynotes")
		f.member(t, "owner1", "owner")
		f.member(t, "padmin", "practice_admin")
		f.member(t, "clin", "clinician")
		f.member(t, "sched", "scheduler")

		// "Note: Only Practice Administrators may change a user's roles."
		err := f.svc.SetMemberRoles(ctx, f.actor("clin"), "sched", []string{"scheduler", "biller"}, roles.Meta{})
		if !errors.Is(err, roles.ErrForbidden) {
			t.Fatalf("clinician assigning roles: %v, want ErrForbidden", err)
		}
		if ev := lastAudit(t, st, f.pid); ev.Outcome != "failure" || ev.Action != "role.assign" || ev.ActorID != "clin" {
			t.Fatalf("refusal audit = %+v", ev)
		}
		// Who staffs whom: the Practice Administrator holds no billing, yet
		// makes someone a biller (seed 000)...
		if err := f.svc.SetMemberRoles(ctx, f.actor("padmin"), "sched", []string{"scheduler", "biller"}, roles.Meta{}); err != nil {
			t.Fatalf("practice admin giving Practice Biller: %v", err)
		}
		// ...but never an owner, and the refusal names the role in words.
		err = f.svc.SetMemberRoles(ctx, f.actor("padmin"), "sched", []string{"owner"}, roles.Meta{})
		if p, ok := problem.As(err); !errors.Is(err, roles.ErrForbidden) || !ok ||
			p.Public != "You can't give the Account Owner role; only an owner can." {
			t.Fatalf("practice admin giving Account Owner: %v, want ErrForbidden naming the role", err)
		}
		// ...nor grant themselves more through an override.
		err = f.svc.SetMemberOverrides(ctx, f.actor("padmin"), "padmin", []roles.Override{{Permission: "audit.view", Grant: true}}, roles.Meta{})
		if !errors.Is(err, roles.ErrForbidden) {
			t.Fatalf("self-grant: %v, want ErrForbidden", err)
		}
		// ...but may remove roles and grant what they hold.
		if err := f.svc.SetMemberRoles(ctx, f.actor("padmin"), "sched", nil, roles.Meta{}); err != nil {
			t.Fatalf("removing roles: %v", err)
		}
		if err := f.svc.SetMemberRoles(ctx, f.actor("owner1"), "sched", []string{"scheduler", "biller"}, roles.Meta{}); err != nil {
			t.Fatalf("owner granting: %v", err)
		}
		// "Clinical Administrators must also have the role of Clinician"
		err = f.svc.SetMemberRoles(ctx, f.actor("owner1"), "sched", []string{"clinical_admin"}, roles.Meta{})
		if !errors.Is(err, roles.ErrConstraint) {
			t.Fatalf("clinical admin without clinician: %v, want ErrConstraint", err)
		}
		if err := f.svc.SetMemberRoles(ctx, f.actor("owner1"), "clin", []string{"clinician", "clinical_admin"}, roles.Meta{}); err != nil {
			t.Fatal(err)
		}
		// Unknown roles are refused.
		if err := f.svc.SetMemberRoles(ctx, f.actor("owner1"), "clin", []string{"wizard"}, roles.Meta{}); !errors.Is(err, roles.ErrConstraint) {
			t.Fatalf("unknown role: %v", err)
		}

		// The last member who can manage members and assign roles stays.
		// Two can: owner1 and padmin. Demote padmin, then owner1 cannot demote themselves.
		if err := f.svc.SetMemberRoles(ctx, f.actor("owner1"), "padmin", []string{"clinician"}, roles.Meta{}); err != nil {
			t.Fatal(err)
		}
		err = f.svc.SetMemberRoles(ctx, f.actor("owner1"), "owner1", []string{"clinician"}, roles.Meta{})
		if !errors.Is(err, roles.ErrLastManager) {
			t.Fatalf("demoting the last manager: %v, want ErrLastManager", err)
		}
		err = f.svc.SetMemberOverrides(ctx, f.actor("owner1"), "owner1", []roles.Override{{Permission: "members.manage", Grant: false}}, roles.Meta{})
		if !errors.Is(err, roles.ErrLastManager) {
			t.Fatalf("denying the last manager: %v, want ErrLastManager", err)
		}
		if err := st.InTx(ctx, func(tx *store.Store) error { return f.svc.CheckRemoval(ctx, tx, f.pid, "owner1") }); !errors.Is(err, roles.ErrLastManager) {
			t.Fatalf("CheckRemoval of the last manager: %v", err)
		}
		// "There can be multiple Practice Owners": with a second owner, the first may step down.
		if err := f.svc.SetMemberRoles(ctx, f.actor("owner1"), "padmin", []string{"owner"}, roles.Meta{}); err != nil {
			t.Fatal(err)
		}
		if err := st.InTx(ctx, func(tx *store.Store) error { return f.svc.CheckRemoval(ctx, tx, f.pid, "owner1") }); err != nil {
			t.Fatalf("CheckRemoval with two owners: %v", err)
		}
		if err := f.svc.SetMemberRoles(ctx, f.actor("owner1"), "owner1", []string{"clinician"}, roles.Meta{}); err != nil {
			t.Fatalf("stepping down with another owner: %v", err)
		}
		// The operator (no member) is trusted, but constraints still hold.
		if err := f.svc.SetMemberRoles(ctx, roles.Actor{PracticeID: f.pid}, "padmin", []string{"clinician"}, roles.Meta{}); !errors.Is(err, roles.ErrLastManager) {
			t.Fatalf("operator demoting the last manager: %v", err)
		}
	})
}

func TestRoleDefinitionsAndToggles(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := newFixture(t, st, "therapynotes")
		f.member(t, "owner1", "owner")
		f.member(t, "padmin", "practice_admin")
		f.member(t, "clin", "clinician")

		intern := roles.Role{Key: "intern", Name: "Intern", Requires: []string{"clinician"},
			Permissions: []string{"clinical_notes.create:assigned"}}
		if err := f.svc.PutRole(ctx, f.actor("padmin"), intern, roles.Meta{}); !errors.Is(err, roles.ErrForbidden) {
			t.Fatalf("practice admin defining roles: %v, want ErrForbidden", err)
		}
		if err := f.svc.PutRole(ctx, f.actor("owner1"), intern, roles.Meta{}); err != nil {
			t.Fatal(err)
		}
		bad := intern
		bad.Permissions = []string{"clinical_notes.create"}
		if err := f.svc.PutRole(ctx, f.actor("owner1"), bad, roles.Meta{}); !errors.Is(err, roles.ErrBadPermission) {
			t.Fatalf("unscoped scoped permission: %v", err)
		}
		// A scope the permission does not have grants nothing an app asks
		// for: refused, with the scopes it has.
		bad.Permissions = []string{"clinical_notes.create:own"}
		if err := f.svc.PutRole(ctx, f.actor("owner1"), bad, roles.Meta{}); !errors.Is(err, roles.ErrBadPermission) ||
			!strings.Contains(err.Error(), "limited to :assigned or :all") {
			t.Fatalf("a scope the permission does not have: %v", err)
		}
		if err := f.svc.SetMemberRoles(ctx, f.actor("owner1"), "clin", []string{"clinician", "intern"}, roles.Meta{}); err != nil {
			t.Fatal(err)
		}
		// Editing a role changes the permissions of everyone holding it at once.
		intern.Permissions = append(intern.Permissions, "forms.send:assigned")
		if err := f.svc.PutRole(ctx, f.actor("owner1"), intern, roles.Meta{}); err != nil {
			t.Fatal(err)
		}
		if !roles.Allows(f.perms(t, "clin").Permissions, "forms.send:assigned") {
			t.Fatal("edited role not reflected")
		}
		ev := lastAudit(t, st, f.pid)
		if ev.Action != "role.define" || ev.Details["before"] == "" || ev.Details["after"] == "" {
			t.Fatalf("define audit = %+v", ev)
		}
		if err := f.svc.DeleteRole(ctx, f.actor("owner1"), "intern", roles.Meta{}); !errors.Is(err, roles.ErrInvalid) {
			t.Fatalf("deleting a held role: %v", err)
		}
		if err := f.svc.DeleteRole(ctx, f.actor("owner1"), "owner", roles.Meta{}); !errors.Is(err, roles.ErrInvalidRole) {
			t.Fatalf("deleting owner: %v", err)
		}
		if err := f.svc.SetToggle(ctx, f.actor("owner1"), "nope", true, roles.Meta{}); !errors.Is(err, roles.ErrInvalid) {
			t.Fatalf("unknown toggle: %v", err)
		}
		// The owner role may be narrowed while another member can still manage.
		owner, _ := roles.PresetByKey("therapynotes")
		o, _ := owner.Role("owner")
		o.Permissions = []string{"audit.view"}
		if err := f.svc.PutRole(ctx, f.actor("owner1"), o, roles.Meta{}); err != nil {
			t.Fatalf("narrowing owner while practice_admin can still manage: %v", err)
		}
		m, err := f.svc.Model(ctx, f.pid)
		if err != nil || m.Preset != "therapynotes" || len(m.Roles) != 9 {
			t.Fatalf("Model = %+v, %v", m, err)
		}
	})
}

func TestSupervisionAndElevation(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := newFixture(t, st, "sessions")
		f.member(t, "owner1", "owner")
		f.member(t, "admin", "administrator")
		f.member(t, "sup1", "practitioner", "supervisor")
		f.member(t, "sup2", "practitioner", "supervisor")
		f.member(t, "assoc", "practitioner")
		f.member(t, "sched", "scheduler")

		// "Can I have more than one supervisor?" — frontdesk allows several.
		links := []roles.SupervisorLink{{SupervisorID: "sup1", CosignNotes: true, CosignTreatmentPlans: true}, {SupervisorID: "sup2"}}
		if err := f.svc.SetSupervisors(ctx, f.actor("admin"), "assoc", links, roles.Meta{}); err != nil {
			t.Fatal(err)
		}
		if eff := f.perms(t, "assoc"); !slices.Equal(eff.Supervisors, []string{"sup1", "sup2"}) {
			t.Fatalf("supervisors = %v", eff.Supervisors)
		}
		sv, err := f.svc.Supervision(ctx, f.pid, "sup1")
		if err != nil || !slices.Equal(sv.Supervisees, []string{"assoc"}) {
			t.Fatalf("Supervision(sup1) = %+v, %v", sv, err)
		}
		sv, _ = f.svc.Supervision(ctx, f.pid, "assoc")
		if len(sv.Supervisors) != 2 || !sv.Supervisors[0].CosignNotes || !sv.Supervisors[0].CosignTreatmentPlans || sv.Supervisors[1].CosignNotes {
			t.Fatalf("Supervision(assoc) = %+v", sv)
		}
		// "To access the supervision features, the Supervisor role must first be assigned."
		err = f.svc.SetSupervisors(ctx, f.actor("admin"), "assoc", []roles.SupervisorLink{{SupervisorID: "sched", CosignNotes: true}}, roles.Meta{})
		if !errors.Is(err, roles.ErrInvalid) {
			t.Fatalf("non-supervisor as supervisor: %v", err)
		}
		if err := f.svc.SetSupervisors(ctx, f.actor("admin"), "assoc", []roles.SupervisorLink{{SupervisorID: "assoc"}}, roles.Meta{}); !errors.Is(err, roles.ErrInvalid) {
			t.Fatalf("self-supervision: %v", err)
		}
		if err := f.svc.SetSupervisors(ctx, f.actor("sup1"), "assoc", nil, roles.Meta{}); !errors.Is(err, roles.ErrForbidden) {
			t.Fatalf("practitioner changing supervision: %v", err)
		}

		// Break-glass: only with elevation.grant, a reason, a time box.
		perms := []string{"clinical_notes.view:all", "records.view:all"}
		if _, err := f.svc.GrantElevation(ctx, f.actor("admin"), "assoc", perms, time.Hour, "client in crisis, on call", roles.Meta{}); !errors.Is(err, roles.ErrForbidden) {
			t.Fatalf("administrator without elevation.grant: %v", err)
		}
		if _, err := f.svc.GrantElevation(ctx, f.actor("owner1"), "assoc", perms, time.Hour, " ", roles.Meta{}); !errors.Is(err, roles.ErrInvalid) {
			t.Fatalf("no reason: %v", err)
		}
		if _, err := f.svc.GrantElevation(ctx, f.actor("owner1"), "assoc", []string{"roles.assign"}, time.Hour, "client in crisis, on call", roles.Meta{}); !errors.Is(err, roles.ErrInvalid) {
			t.Fatalf("administrative elevation: %v", err)
		}
		if _, err := f.svc.GrantElevation(ctx, f.actor("owner1"), "assoc", perms, 13*time.Hour, "client in crisis, on call", roles.Meta{}); !errors.Is(err, roles.ErrInvalid) {
			t.Fatalf("too long: %v", err)
		}
		e, err := f.svc.GrantElevation(ctx, f.actor("owner1"), "assoc", perms, 0, "client in crisis, on call", roles.Meta{})
		if err != nil {
			t.Fatal(err)
		}
		eff := f.perms(t, "assoc")
		if !eff.Elevated || !eff.ElevationExpires.Equal(t0.Add(roles.DefaultElevation)) || !roles.Allows(eff.Permissions, "clinical_notes.view:all") {
			t.Fatalf("elevated = %+v", eff)
		}
		ev := lastAudit(t, st, f.pid)
		if ev.Action != "elevation.grant" || ev.SubjectID != "assoc" || ev.Details["reason"] != "client in crisis, on call" {
			t.Fatalf("elevation audit = %+v", ev)
		}
		if len(f.notices) != 1 || !slices.Equal(f.notices[0].RecipientIDs, []string{"owner1"}) || f.notices[0].Elevation.ID != e.ID {
			t.Fatalf("notices = %+v", f.notices)
		}
		// It ends on its own.
		f.mu.Lock()
		f.now = t0.Add(roles.DefaultElevation)
		f.mu.Unlock()
		if eff := f.perms(t, "assoc"); eff.Elevated || roles.Allows(eff.Permissions, "clinical_notes.view:all") {
			t.Fatalf("expired elevation still in force: %+v", eff)
		}
		// And can be ended early.
		e2, err := f.svc.GrantElevation(ctx, f.actor("owner1"), "assoc", perms, time.Hour, "second emergency today", roles.Meta{})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.EndElevation(ctx, f.actor("owner1"), e2.ID, roles.Meta{}); err != nil {
			t.Fatal(err)
		}
		if f.perms(t, "assoc").Elevated {
			t.Fatal("ended elevation still in force")
		}
	})
}

// TestConcurrentDemotionsKeepAManager: two owners demoting each other at
// once must not leave the practice without a manager.
func TestConcurrentDemotionsKeepAManager(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := newFixture(t, st, "zencare")
		f.member(t, "a", "owner")
		f.member(t, "b", "owner")
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, pair := range [][2]string{{"a", "b"}, {"b", "a"}} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = f.svc.SetMemberRoles(ctx, f.actor(pair[0]), pair[1], []string{"therapist"}, roles.Meta{})
			}()
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
			} else if !errors.Is(err, roles.ErrLastManager) && !errors.Is(err, roles.ErrForbidden) {
				t.Fatalf("unexpected error: %v", err)
			}
		}
		if ok != 1 {
			t.Fatalf("%d demotions succeeded, want exactly 1 (%v)", ok, errs)
		}
	})
}

type recordingSender struct {
	mu   sync.Mutex
	sent []invites.Message
}

func (r *recordingSender) Send(_ context.Context, m invites.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, m)
	return nil
}

func TestMailNotifier(t *testing.T) {
	st := storetest.Open(t, store.SQLite)
	ctx := context.Background()
	f := newFixture(t, st, "aba")
	f.member(t, "main", "owner")
	f.member(t, "bt1", "bt")
	mails, err := templates.ParseMails()
	if err != nil {
		t.Fatal(err)
	}
	rec := &recordingSender{}
	notify := roles.MailNotifier(st, rec, mails)
	e := roles.Elevation{ID: "e1", PracticeID: f.pid, MemberID: "bt1", GrantedBy: "main", Reason: "client <b>in crisis</b>",
		Permissions: []string{"clinical_notes.view:all"}, CreatedAt: t0, ExpiresAt: t0.Add(4 * time.Hour)}
	if err := notify(ctx, roles.ElevationNotice{PracticeID: f.pid, Elevation: e, RecipientIDs: []string{"main"}}); err != nil {
		t.Fatal(err)
	}
	if len(rec.sent) != 1 {
		t.Fatalf("sent %d messages", len(rec.sent))
	}
	m := rec.sent[0]
	if m.To != "main@example.org" || !strings.Contains(m.Subject, "Emergency access") ||
		!strings.Contains(m.Text, "bt1@example.org") || !strings.Contains(m.Text, "client <b>in crisis</b>") ||
		strings.Contains(m.HTML, "<b>in crisis") || m.HTML == "" {
		t.Fatalf("message = %+v", m)
	}
	// Written for a person: people with their roles by name (greetings by
	// name: templates' TestMailsSpeakToPeople), permissions in words, never
	// a permission string.
	for _, want := range []string{"main@example.org (Main Admin) granted emergency access to bt1@example.org (Behavior Therapist (BT))",
		"“Read clinical notes: progress and session notes (everyone in the practice)”"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("notice text lacks %q:\n%s", want, m.Text)
		}
	}
	if strings.Contains(m.Text, "clinical_notes.view:all") || strings.Contains(m.HTML, "clinical_notes.view:all") {
		t.Errorf("notice shows the permission string:\n%s", m.Text)
	}
}

func TestHolders(t *testing.T) {
	st := storetest.Open(t, store.SQLite)
	f := newFixture(t, st, "therapynotes")
	f.member(t, "owner1", "owner")
	f.member(t, "padmin", "practice_admin")
	f.member(t, "clin", "clinician")
	got, err := f.svc.Holders(context.Background(), f.pid, roles.PermUnlock)
	if err != nil || !slices.Equal(got, []string{"owner1", "padmin"}) {
		t.Fatalf("Holders(unlock) = %v, %v", got, err)
	}
}

// BenchmarkEffective is what issuing one token costs the role model (SQLite).
func BenchmarkEffective(b *testing.B) {
	st := storetest.Open(b, store.SQLite)
	ctx := context.Background()
	svc, err := roles.New(roles.Deps{Store: st, Now: func() time.Time { return t0 }, NewID: func() string { return "x" }})
	if err != nil {
		b.Fatal(err)
	}
	err = st.InTx(ctx, func(tx *store.Store) error {
		if err := tx.CreatePractice(ctx, store.Practice{ID: "p1", Slug: "p1", Name: "P1", CreatedAt: t0}); err != nil {
			return err
		}
		if _, err := roles.Install(ctx, tx, "p1", "sessions", t0); err != nil {
			return err
		}
		return tx.CreateMember(ctx, store.Member{ID: "m1", PracticeID: "p1", Email: "m1@example.org",
			Status: store.StatusActive, Roles: []string{"practitioner", "supervisor"}, CreatedAt: t0})
	})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := svc.Effective(ctx, "p1", "m1"); err != nil {
			b.Fatal(err)
		}
	}
}

func TestMemberOptions(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := newFixture(t, st, "sessions")
		f.member(t, "owner1", "owner")
		f.member(t, "admin", "administrator")
		f.member(t, "prac", "practitioner")
		// "toggle off the "View/Manage clients' billing information, documents, and insights" setting"
		if err := f.svc.ApplyMemberOption(ctx, f.actor("admin"), "prac", "no_billing", true, roles.Meta{}); err != nil {
			t.Fatal(err)
		}
		if roles.Allows(f.perms(t, "prac").Permissions, "billing.view:own") {
			t.Fatal("no_billing did not remove billing")
		}
		// The Sessions administrator sees only "limited client information", and
		// no role it gives includes full clinical access: only an owner gives it.
		err := f.svc.ApplyMemberOption(ctx, f.actor("admin"), "prac", "full_clinical_access", true, roles.Meta{})
		if !errors.Is(err, roles.ErrForbidden) {
			t.Fatalf("administrator granting full clinical access: %v, want ErrForbidden", err)
		}
		if err := f.svc.ApplyMemberOption(ctx, f.actor("owner1"), "prac", "full_clinical_access", true, roles.Meta{}); err != nil {
			t.Fatal(err)
		}
		eff := f.perms(t, "prac").Permissions
		if !roles.Allows(eff, "clinical_notes.edit:all") || roles.Allows(eff, "billing.view:own") {
			t.Fatalf("both options: %v", eff)
		}
		if err := f.svc.ApplyMemberOption(ctx, f.actor("owner1"), "prac", "no_billing", false, roles.Meta{}); err != nil {
			t.Fatal(err)
		}
		eff = f.perms(t, "prac").Permissions
		if !roles.Allows(eff, "clinical_notes.edit:all") || !roles.Allows(eff, "billing.view:assigned") {
			t.Fatalf("after turning billing back on: %v", eff)
		}
		if err := f.svc.ApplyMemberOption(ctx, f.actor("owner1"), "prac", "tab_billing", true, roles.Meta{}); !errors.Is(err, roles.ErrInvalid) {
			t.Fatalf("option of another preset: %v", err)
		}
		if ev := lastAudit(t, st, f.pid); ev.Outcome != "failure" || ev.Details["option"] != "tab_billing" {
			t.Fatalf("refused option audit = %+v", ev)
		}
	})
}

// TestGrantedScopesMustBeTheCatalogues: what a request grants — a role's
// permissions, a member's granting override, emergency access — carries a
// scope the catalogue gives the permission (ValidateNew); a denial may name
// any scope (the narrowest denies them all); and what was stored before
// that check, a role or an override holding another scope, is kept and can
// still be edited around.
func TestGrantedScopesMustBeTheCatalogues(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := newFixture(t, st, "therapynotes")
		f.member(t, "owner1", "owner")
		f.member(t, "clin", "clinician")
		owner := f.actor("owner1")
		limited := func(t *testing.T, what string, err error) {
			t.Helper()
			if !errors.Is(err, roles.ErrBadPermission) || !strings.Contains(err.Error(), "limited to :") {
				t.Errorf("%s: %v, want ErrBadPermission naming the scopes", what, err)
			}
		}

		// Stored before the check: a role and a granting override with a
		// scope their permissions do not have.
		defs, err := st.RoleDefinitions(ctx, f.pid)
		if err != nil {
			t.Fatal(err)
		}
		legacy := store.RoleDefinition{PracticeID: f.pid, Key: "legacy", Name: "Legacy", Permissions: []string{"clinical_notes.create:own"},
			Gives: []string{}, Position: len(defs), CreatedAt: t0, UpdatedAt: t0}
		if err := st.ReplaceRoleDefinitions(ctx, f.pid, append(defs, legacy)); err != nil {
			t.Fatal(err)
		}
		if err := st.SetMemberOverrides(ctx, "clin", []store.MemberOverride{{Permission: "billing.view:own", Grant: true}}); err != nil {
			t.Fatal(err)
		}

		// Roles.
		limited(t, "a new role", f.svc.PutRole(ctx, owner, roles.Role{Key: "intern", Name: "Intern",
			Permissions: []string{"schedule.view:assigned"}}, roles.Meta{}))
		if err := f.svc.PutRole(ctx, owner, roles.Role{Key: "intern", Name: "Intern",
			Permissions: []string{"schedule.view:own"}}, roles.Meta{}); err != nil {
			t.Fatalf("a new role with the catalogue's scope: %v", err)
		}
		if err := f.svc.PutRole(ctx, owner, roles.Role{Key: "legacy", Name: "Legacy, renamed",
			Permissions: []string{"clinical_notes.create:own", "forms.send:assigned"}}, roles.Meta{}); err != nil {
			t.Fatalf("editing the role stored before the check, keeping its scope: %v", err)
		}
		limited(t, "the stored role given another such scope", f.svc.PutRole(ctx, owner, roles.Role{Key: "legacy", Name: "Legacy",
			Permissions: []string{"clinical_notes.create:own", "clinical_notes.cosign:own"}}, roles.Meta{}))

		// Overrides.
		err = f.svc.SetMemberOverrides(ctx, owner, "clin", []roles.Override{{Permission: "billing.view:own", Grant: true},
			{Permission: "clients.view:own", Grant: true}}, roles.Meta{})
		limited(t, "a new granting override", err)
		if err := f.svc.SetMemberOverrides(ctx, owner, "clin", []roles.Override{{Permission: "billing.view:own", Grant: true},
			{Permission: "clients.view:own", Grant: false}, {Permission: "billing.edit:assigned", Grant: true}}, roles.Meta{}); err != nil {
			t.Fatalf("the stored grant kept, a denial at the narrowest scope, a grant with the catalogue's scope: %v", err)
		}
		if roles.Allows(f.perms(t, "clin").Permissions, "clients.view:assigned") {
			t.Error("denying clients.view:own left clients.view:assigned")
		}

		// Emergency access.
		_, err = f.svc.GrantElevation(ctx, owner, "clin", []string{"clinical_notes.cosign:own"}, time.Hour, "covering a colleague's clients today", roles.Meta{})
		limited(t, "emergency access", err)
	})
}
