package roles

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/problem"
	"github.com/frontdeskhq/frontdesk/identity/store"
)

// Effective is what a member may do in a practice right now: the role keys
// they hold, the effective permissions (union over roles, then practice
// toggles, then member overrides, then any active emergency elevation), their
// supervisors' member IDs, and whether an elevation is active. Every list is
// sorted and free of duplicates. The OpenID provider copies it into tokens.
type Effective struct {
	Roles       []string
	Permissions []string
	Supervisors []string
	// Supervisees are the members this member supervises, filled only when
	// they hold a permission with the supervisees scope: what :supervisees
	// covers beyond their own assigned things.
	Supervisees []string
	// CosignNotes and CosignTreatmentPlans list the supervisors whose
	// co-signature this member's clinical notes, respectively treatment
	// plans, require.
	CosignNotes          []string
	CosignTreatmentPlans []string
	// Elevated is true while an emergency (break-glass) elevation is active;
	// ElevationExpires is when the last active one ends.
	Elevated         bool
	ElevationExpires time.Time
}

// Errors of the Service; test for them with errors.Is.
var (
	// ErrMemberNotFound: no such member in the practice, or the member is
	// deactivated.
	ErrMemberNotFound = problem.New(problem.NotFound, "not_found", "roles: no such member in this practice",
		"There is no such member in this practice.")
	// ErrForbidden: the acting member lacks the permission the change needs,
	// or would give a role or permission the delegation model does not let
	// them give (then the public text names it in words).
	ErrForbidden = problem.New(problem.Forbidden, "forbidden", "roles: not allowed", "not allowed")
	// ErrLastManager: the change would leave the practice without any member
	// who can manage members and assign roles.
	ErrLastManager = problem.New(problem.Conflict, "last_manager",
		"roles: the practice must keep at least one member who can manage members and assign roles",
		"The practice must keep at least one member who can manage members and assign roles. Give someone else those roles first.")
	// ErrInvalid: the request is malformed; the message says what to fix.
	ErrInvalid = problem.New(problem.Invalid, "invalid_request", "roles: invalid request", "invalid request")
)

// Limits of emergency elevations.
const (
	// MaxElevation is the longest an elevation may last.
	MaxElevation = 12 * time.Hour
	// DefaultElevation is used when no duration is given.
	DefaultElevation = 4 * time.Hour
)

// Meta describes where an administrative request came from, for the audit
// trail.
type Meta struct {
	ClientAddr string
	UserAgent  string
	RequestID  string
}

// OperatorActorID is the audit trail's actor for changes made by the
// operator (an Actor without MemberID); it equals account.OperatorActorID.
const OperatorActorID = "operator"

// Actor is the member making an administrative change. An empty MemberID is
// the operator (the CLI on the server): the operator is trusted with every
// permission, and still cannot break the practice's constraints.
type Actor struct {
	PracticeID string
	MemberID   string
}

// ElevationNotice tells a practice's administrators that emergency access
// was granted.
type ElevationNotice struct {
	PracticeID   string
	Elevation    Elevation
	RecipientIDs []string // members holding audit.view
}

// Deps are the Service's collaborators.
type Deps struct {
	Store  *store.Store
	Logger *slog.Logger
	Now    func() time.Time
	NewID  func() string
	// Notify delivers emergency-access notices to administrators after the
	// grant commits; nil means they are only logged (the audit trail records
	// every elevation anyway). Unused when NotifyTx is set.
	Notify func(ctx context.Context, n ElevationNotice) error
	// NotifyTx queues emergency-access notices inside the transaction that
	// grants the elevation (OutboxNotifier), so a grant never commits without
	// them; Queued, when set, is called after such a grant commits (to wake
	// the outbox worker).
	NotifyTx func(ctx context.Context, tx *store.Store, n ElevationNotice) error
	Queued   func()
}

// Service is the role-model domain service: it computes effective
// permissions and makes every administrative change to roles, toggles,
// overrides, supervision and elevations, enforcing the role model's own rules
// and auditing each change. It is safe for concurrent use.
type Service struct {
	d      Deps
	models *modelCache // parsed role models for EffectiveMember (grant.go)
}

// New returns a Service.
func New(d Deps) (*Service, error) {
	if d.Store == nil || d.Now == nil || d.NewID == nil {
		return nil, errors.New("roles: Store, Now and NewID are required")
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{d: d, models: &modelCache{}}, nil
}

// model is a practice's role model as loaded from the store.
type model struct {
	defs      []Role
	preset    Preset
	toggleOn  map[string]bool
	installed bool // false: the practice predates role models; defs come from the default preset
	// undelegated is true while some stored role predates delegation (its
	// Gives come from the preset until MigrateDelegation stores them).
	undelegated bool
	version     int64     // the stored role-model version (store.MemberRoleData.ModelVersion)
	memo        *permMemo // for cached models: permissions by held roles (grant.go)
}

func loadModel(ctx context.Context, st *store.Store, practiceID string) (model, error) {
	rm, err := st.RoleModel(ctx, practiceID)
	if errors.Is(err, store.ErrNotFound) {
		p, _ := PresetByKey(DefaultPreset)
		return model{defs: p.Roles, preset: p, toggleOn: map[string]bool{}}, nil
	}
	if err != nil {
		return model{}, fmt.Errorf("roles: %w", err)
	}
	stored, err := st.RoleDefinitions(ctx, practiceID)
	if err != nil {
		return model{}, fmt.Errorf("roles: %w", err)
	}
	m := model{preset: Preset{Key: rm.Preset}, toggleOn: rm.Toggles, installed: true, version: rm.UpdatedAt.UnixMicro()}
	if p, ok := presetRaw(rm.Preset); ok {
		m.preset = p
	}
	if m.toggleOn == nil {
		m.toggleOn = map[string]bool{}
	}
	for _, d := range stored {
		m.defs = append(m.defs, Role{Key: d.Key, Name: d.Name, Description: d.Description, Permissions: d.Permissions,
			Requires: d.Requires, Exclusive: d.Exclusive, Gives: d.Gives})
		m.undelegated = m.undelegated || d.Gives == nil
	}
	if m.undelegated {
		// Stored before delegation existed: what the preset's roles give,
		// until MigrateDelegation records it (it reports the change).
		defaults := defaultGives(presetOrDefault(rm.Preset), m.defs)
		for i := range m.defs {
			if m.defs[i].Gives == nil {
				m.defs[i].Gives = defaults[m.defs[i].Key]
			}
		}
	}
	ownerGivesAll(m.defs)
	return m, nil
}

// presetOrDefault returns the preset with key k (normalized), or the default
// preset for a key frontdesk no longer ships.
func presetOrDefault(k string) Preset {
	if p, ok := PresetByKey(k); ok {
		return p
	}
	p, _ := PresetByKey(DefaultPreset)
	return p
}

// ownerGivesAll sets the owner role's Gives to every role of defs.
func ownerGivesAll(defs []Role) {
	var keys []string
	for _, r := range defs {
		keys = append(keys, r.Key)
	}
	keys = sortedSet(keys)
	for i := range defs {
		if defs[i].Key == OwnerRole {
			defs[i].Gives = slices.Clone(keys)
		}
	}
}

// member is one member's stored role data.
type memberData struct {
	held        []string
	overrides   []Override
	supervisor  []string
	cosignNotes []string // supervisors who must co-sign notes
	cosignPlans []string // supervisors who must co-sign treatment plans
}

func loadMember(ctx context.Context, st *store.Store, memberID string, roles []string) (memberData, error) {
	ov, err := st.MemberOverrides(ctx, memberID)
	if err != nil {
		return memberData{}, fmt.Errorf("roles: %w", err)
	}
	sups, err := st.Supervisors(ctx, memberID)
	if err != nil {
		return memberData{}, fmt.Errorf("roles: %w", err)
	}
	md := memberData{held: roles}
	for _, o := range ov {
		md.overrides = append(md.overrides, Override{Permission: o.Permission, Grant: o.Grant})
	}
	for _, v := range sups {
		md.supervisor = append(md.supervisor, v.SupervisorID)
		if v.CosignNotes {
			md.cosignNotes = append(md.cosignNotes, v.SupervisorID)
		}
		if v.CosignPlans {
			md.cosignPlans = append(md.cosignPlans, v.SupervisorID)
		}
	}
	return md, nil
}

func (m model) compute(md memberData, elevations []Elevation, now time.Time) Effective {
	return Compute(Input{Defs: m.defs, Held: md.held, Toggles: m.preset.Toggles, ToggleOn: m.toggleOn,
		Overrides: md.overrides, Elevations: elevations, Supervisors: md.supervisor, Now: now})
}

// Effective computes the member's effective roles and permissions in the
// practice at this moment, including active elevations. A member who does not
// exist in the practice, or is deactivated, gets ErrMemberNotFound.
func (s *Service) Effective(ctx context.Context, practiceID, memberID string) (Effective, error) {
	return s.effective(ctx, s.d.Store, practiceID, memberID, true)
}

func (s *Service) effective(ctx context.Context, st *store.Store, practiceID, memberID string, withElevation bool) (Effective, error) {
	mem, err := st.MemberByID(ctx, practiceID, memberID)
	if errors.Is(err, store.ErrNotFound) || err == nil && mem.Status == store.StatusDeactivated {
		return Effective{}, ErrMemberNotFound
	}
	if err != nil {
		return Effective{}, fmt.Errorf("roles: %w", err)
	}
	m, err := loadModel(ctx, st, practiceID)
	if err != nil {
		return Effective{}, err
	}
	md, err := loadMember(ctx, st, memberID, mem.Roles)
	if err != nil {
		return Effective{}, err
	}
	now := s.d.Now()
	var elevations []Elevation
	if withElevation {
		stored, err := st.ActiveElevations(ctx, memberID, now)
		if err != nil {
			return Effective{}, fmt.Errorf("roles: %w", err)
		}
		for _, e := range stored {
			elevations = append(elevations, fromStoreElevation(e))
		}
	}
	eff := m.compute(md, elevations, now)
	eff.CosignNotes, eff.CosignTreatmentPlans = sortedSet(md.cosignNotes), sortedSet(md.cosignPlans)
	eff.Supervisees = []string{}
	if supervises(eff.Permissions) {
		sees, err := st.Supervisees(ctx, memberID)
		if err != nil {
			return Effective{}, fmt.Errorf("roles: %w", err)
		}
		for _, v := range sees {
			eff.Supervisees = append(eff.Supervisees, v.MemberID)
		}
		eff.Supervisees = sortedSet(eff.Supervisees)
	}
	return eff, nil
}

// Allowed reports whether the member's effective permissions imply perm. It
// is false, with no error, for an unknown or deactivated member.
func (s *Service) Allowed(ctx context.Context, practiceID, memberID, perm string) (bool, error) {
	eff, err := s.Effective(ctx, practiceID, memberID)
	if errors.Is(err, ErrMemberNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return Allows(eff.Permissions, perm), nil
}

// Model is a practice's role model for administrators to read.
type Model struct {
	Preset        string
	Roles         []Role
	Toggles       []Toggle
	ToggleOn      map[string]bool // every toggle's current value
	MemberOptions []MemberOption
}

// Model returns the practice's role definitions, toggles with their values,
// and the member options of its preset.
func (s *Service) Model(ctx context.Context, practiceID string) (Model, error) {
	m, err := loadModel(ctx, s.d.Store, practiceID)
	if err != nil {
		return Model{}, err
	}
	out := Model{Preset: m.preset.Key, Roles: m.defs, Toggles: m.preset.Toggles, ToggleOn: map[string]bool{},
		MemberOptions: m.preset.MemberOptions}
	for _, t := range m.preset.Toggles {
		on, ok := m.toggleOn[t.Key]
		if !ok {
			on = t.Default
		}
		out.ToggleOn[t.Key] = on
	}
	return out, nil
}

// Install writes the preset's role definitions and default toggle values for
// a new practice, inside the caller's transaction, and returns the preset
// (whose OwnerRoles the practice's creator gets). An empty key means
// DefaultPreset.
func Install(ctx context.Context, tx *store.Store, practiceID, presetKey string, at time.Time) (Preset, error) {
	if presetKey == "" {
		presetKey = DefaultPreset
	}
	p, ok := PresetByKey(presetKey)
	if !ok {
		return Preset{}, ErrInvalid.Withf("unknown preset %q; choose one of %s (see `frontdesk practice presets`)", presetKey, strings.Join(PresetKeys(), ", "))
	}
	if err := tx.PutRoleModel(ctx, store.RoleModel{PracticeID: practiceID, Preset: p.Key, Toggles: map[string]bool{},
		UpdatedAt: at}); err != nil {
		return Preset{}, fmt.Errorf("roles: install: %w", err)
	}
	if err := tx.ReplaceRoleDefinitions(ctx, practiceID, toStoreDefs(practiceID, p.Roles, at)); err != nil {
		return Preset{}, fmt.Errorf("roles: install: %w", err)
	}
	return p, nil
}

func toStoreDefs(practiceID string, defs []Role, at time.Time) []store.RoleDefinition {
	out := make([]store.RoleDefinition, 0, len(defs))
	for _, r := range defs {
		out = append(out, store.RoleDefinition{PracticeID: practiceID, Key: r.Key, Name: r.Name, Description: r.Description,
			Permissions: r.Permissions, Requires: r.Requires, Exclusive: r.Exclusive, Gives: sortedSet(r.Gives),
			CreatedAt: at, UpdatedAt: at})
	}
	return out
}

func fromStoreElevation(e store.Elevation) Elevation {
	return Elevation{ID: e.ID, PracticeID: e.PracticeID, MemberID: e.MemberID, GrantedBy: e.GrantedBy,
		Permissions: e.Permissions, Reason: e.Reason, CreatedAt: e.CreatedAt, ExpiresAt: e.ExpiresAt, EndedAt: e.EndedAt}
}
