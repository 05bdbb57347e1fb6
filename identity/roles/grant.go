package roles

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/frontdeskhq/frontdesk/identity/store"
)

// maxCachedModels bounds the parsed role models a Service keeps (one per
// practice that issued a token recently); beyond it the cache starts over.
const maxCachedModels = 4096

// modelCache keeps practices' parsed role models keyed by their stored
// version (store.MemberRoleData.ModelVersion), which every change of the
// model moves forward in the same transaction. A cached model is used only
// while the version read with the member's data still equals its own, so a
// change made through any replica reaches the very next token.
type modelCache struct {
	mu     sync.Mutex
	models map[string]model // practice ID → model (with its version)
}

func (c *modelCache) get(practiceID string, version int64) (model, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m, ok := c.models[practiceID]
	return m, ok && m.version == version
}

func (c *modelCache) put(practiceID string, m model) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.models == nil || len(c.models) >= maxCachedModels {
		c.models = map[string]model{}
	}
	if old, ok := c.models[practiceID]; !ok || old.version <= m.version {
		c.models[practiceID] = m
	}
}

// EffectiveMember is Effective for a member row the caller has just read
// (token issuing reads it anyway, to check the member may still sign in):
// one query for the member's overrides, supervisors and active elevations
// and the practice's role-model version, plus the role model itself only
// when that version is not the one cached. The result equals Effective's.
func (s *Service) EffectiveMember(ctx context.Context, mem store.Member) (Effective, error) {
	if mem.Status == store.StatusDeactivated {
		return Effective{}, ErrMemberNotFound
	}
	d, err := s.d.Store.MemberRoleData(ctx, mem.PracticeID, mem.ID, s.d.Now())
	if err != nil {
		return Effective{}, fmt.Errorf("roles: %w", err)
	}
	return s.EffectiveMemberData(ctx, mem, d)
}

// EffectiveMemberData is EffectiveMember for a member row and its role data
// (store.MemberRoleData, as of now) that the caller has just read, in the
// same statement as the member (the refresh grant reads both with its
// token): the role model is read only when d's version is not the one
// cached. The result equals Effective's.
func (s *Service) EffectiveMemberData(ctx context.Context, mem store.Member, d store.MemberRoleData) (Effective, error) {
	if mem.Status == store.StatusDeactivated {
		return Effective{}, ErrMemberNotFound
	}
	now := s.d.Now()
	m, ok := s.models.get(mem.PracticeID, d.ModelVersion)
	if !ok || !d.HasModel {
		var err error
		if m, err = loadModel(ctx, s.d.Store, mem.PracticeID); err != nil {
			return Effective{}, err
		}
		if m.installed {
			m.memo = &permMemo{}
			s.models.put(mem.PracticeID, m)
		}
	}
	if len(d.Overrides) == 0 && len(d.Elevations) == 0 && m.memo != nil {
		// The common member: permissions follow from the held roles alone.
		held := sortedSet(mem.Roles)
		key := strings.Join(held, "\x00")
		perms, ok := m.memo.get(key)
		if !ok {
			perms = m.compute(memberData{held: mem.Roles}, nil, now).Permissions
			m.memo.put(key, perms)
		}
		return withSupervision(Effective{Roles: held, Permissions: slices.Clone(perms),
			Supervisors: sortedSet(d.Supervisors)}, d), nil
	}
	md := memberData{held: mem.Roles, supervisor: d.Supervisors}
	for _, o := range d.Overrides {
		md.overrides = append(md.overrides, Override{Permission: o.Permission, Grant: o.Grant})
	}
	elevations := make([]Elevation, 0, len(d.Elevations))
	for _, e := range d.Elevations {
		elevations = append(elevations, fromStoreElevation(e))
	}
	return withSupervision(m.compute(md, elevations, now), d), nil
}

// withSupervision adds the co-signature requirements and, for a member
// holding a permission with the supervisees scope, whom they supervise —
// as effective does.
func withSupervision(eff Effective, d store.MemberRoleData) Effective {
	eff.CosignNotes, eff.CosignTreatmentPlans = sortedSet(d.CosignNotes), sortedSet(d.CosignPlans)
	eff.Supervisees = []string{}
	if supervises(eff.Permissions) {
		eff.Supervisees = sortedSet(d.Supervisees)
	}
	return eff
}

// maxMemoEntries bounds a model's memo (distinct role combinations).
const maxMemoEntries = 256

// permMemo remembers, for one cached role model, the effective permissions
// of each combination of held roles without overrides or elevations: the
// reduction of a role's permissions is quadratic in their number and was
// the largest part of computing a token's claims. It lives and dies with
// its model (a new version gets a new memo).
type permMemo struct {
	mu sync.Mutex
	m  map[string][]string
}

func (p *permMemo) get(key string) ([]string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	v, ok := p.m[key]
	return v, ok
}

func (p *permMemo) put(key string, perms []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil || len(p.m) >= maxMemoEntries {
		p.m = map[string][]string{}
	}
	p.m[key] = perms
}
