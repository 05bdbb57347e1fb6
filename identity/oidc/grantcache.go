package oidc

import (
	"context"
	"sync"

	"github.com/frontdeskhq/frontdesk/identity/store"
)

// MemberClaimsSource is a ClaimsSource that computes from the member row the
// provider has just read for the grant, sparing a second read of it. The
// role model (identity/app.RolesClaims) implements it.
type MemberClaimsSource interface {
	ClaimsSource
	EffectiveMember(ctx context.Context, m store.Member) (Effective, error)
}

// MemberDataClaimsSource is a MemberClaimsSource that also computes from
// the member's role data (store.MemberRoleData) the provider has read in
// the same statement as the member: the refresh grant reads token, member
// and role data at once (store.RefreshTokenWithMember).
type MemberDataClaimsSource interface {
	MemberClaimsSource
	EffectiveMemberData(ctx context.Context, m store.Member, d store.MemberRoleData) (Effective, error)
}

// maxCachedPractices bounds practiceCache; beyond it the cache starts over.
const maxCachedPractices = 4096

// practiceCache remembers practices by ID for token grants. Tokens carry a
// practice's ID and slug, neither of which ever changes, and a grant reads
// the member (who belongs to the practice) fresh every time, so a cached
// practice cannot make a token that the database would not.
type practiceCache struct {
	mu sync.RWMutex
	m  map[string]store.Practice
}

func (c *practiceCache) byID(ctx context.Context, st *store.Store, id string) (store.Practice, error) {
	c.mu.RLock()
	p, ok := c.m[id]
	c.mu.RUnlock()
	if ok {
		return p, nil
	}
	p, err := st.PracticeByID(ctx, id)
	if err != nil {
		return store.Practice{}, err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxCachedPractices {
		c.m = map[string]store.Practice{}
	}
	c.m[id] = store.Practice{ID: p.ID, Slug: p.Slug, Name: p.Name, CreatedAt: p.CreatedAt}
	c.mu.Unlock()
	return p, nil
}

// effective computes the member's effective roles and permissions with the
// provider's claims source, from d when it is the member's role data read
// with the member row.
func (p *Provider) effective(ctx context.Context, m store.Member, d *store.MemberRoleData) (Effective, error) {
	if src, ok := p.d.Claims.(MemberDataClaimsSource); ok && d != nil {
		return src.EffectiveMemberData(ctx, m, *d)
	}
	if src, ok := p.d.Claims.(MemberClaimsSource); ok {
		return src.EffectiveMember(ctx, m)
	}
	return p.d.Claims.Effective(ctx, m.PracticeID, m.ID)
}
