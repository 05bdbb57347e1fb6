package roles

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/problem"
	"github.com/frontdeskhq/frontdesk/identity/store"
)

// change is one administrative change in progress, inside its transaction.
type change struct {
	tx    *store.Store
	model model
	actor []string // the actor's permissions (roles, toggles, overrides; no elevation)
	giver giver    // what the actor may give (delegation.go)
	event store.AuditEvent
	// grants are permissions the change gives someone on their own; some
	// role the actor may give must include each (giver.givePermissions).
	grants []string
}

// administer runs fn as one administrative change: it locks the practice's
// role model, checks that the actor holds need, runs fn, checks that some
// role the actor may give includes every permission fn grants (fn checks the
// roles it gives with c.giver) and that the practice keeps a member who can
// manage members and assign roles, and writes the audit event fn filled in.
// A refused change is audited as a failure.
func (s *Service) administer(ctx context.Context, a Actor, need, action string, meta Meta,
	fn func(c *change) error) error {
	return s.administerIn(ctx, nil, a, need, action, meta, fn)
}

// administerIn is administer inside the caller's transaction outer, or in a
// transaction of its own when outer is nil. Inside outer, a refusal is not
// audited here: outer rolls back with it, and its caller audits the refusal
// of what it was doing (an invitation), after the rollback.
func (s *Service) administerIn(ctx context.Context, outer *store.Store, a Actor, need, action string, meta Meta,
	fn func(c *change) error) error {
	actorID := a.MemberID
	if actorID == "" {
		actorID = OperatorActorID // the operator CLI: allowed everything, audited as such
	}
	ev := store.AuditEvent{PracticeID: a.PracticeID, Action: action, ActorID: actorID,
		ClientAddr: meta.ClientAddr, UserAgent: truncate(meta.UserAgent, 256), RequestID: meta.RequestID,
		Details: map[string]string{}}
	st := s.d.Store
	if outer != nil {
		st = outer // its InTx runs fn in the caller's transaction
	}
	err := st.InTx(ctx, func(tx *store.Store) error {
		if err := tx.LockPractice(ctx, a.PracticeID); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return ErrInvalid.Withf("no such practice")
			}
			return fmt.Errorf("roles: %w", err)
		}
		m, err := s.ensureInstalled(ctx, tx, a.PracticeID)
		if err != nil {
			return err
		}
		c := &change{tx: tx, model: m, event: ev}
		if c.giver, err = s.giverFor(ctx, tx, m, a); err != nil && !errors.Is(err, ErrForbidden) {
			return err
		}
		if a.MemberID == "" {
			c.actor = everything() // the operator
		} else {
			eff, err := s.effective(ctx, tx, a.PracticeID, a.MemberID, false)
			if errors.Is(err, ErrMemberNotFound) {
				return ErrForbidden.Withf("the acting member is not an active member of this practice")
			}
			if err != nil {
				return err
			}
			c.actor = eff.Permissions
		}
		if !Allows(c.actor, need) {
			return ErrForbidden.Withf("this needs the %s permission", need)
		}
		if err := fn(c); err != nil {
			ev = c.event
			return err
		}
		ev = c.event
		if err := c.giver.givePermissions(c.grants); err != nil {
			return err
		}
		if err := s.checkManagers(ctx, tx, c.model, a.PracticeID); err != nil {
			return err
		}
		ev.At, ev.Outcome = s.d.Now(), "success"
		if err := tx.AppendAudit(ctx, ev); err != nil {
			return fmt.Errorf("roles: audit %s: %w", action, err)
		}
		return nil
	})
	if err != nil && refused(err) && outer == nil {
		ev.At, ev.Outcome = s.d.Now(), "failure"
		ev.Details["reason"] = truncate(err.Error(), 300)
		if aerr := s.d.Store.AppendAudit(ctx, ev); aerr != nil {
			s.d.Logger.ErrorContext(ctx, "audit write failed", "action", action, "err", aerr)
		}
	}
	return err
}

func refused(err error) bool {
	return errors.Is(err, ErrForbidden) || errors.Is(err, ErrLastManager) || errors.Is(err, ErrConstraint) ||
		errors.Is(err, ErrInvalid) || errors.Is(err, ErrInvalidRole) || errors.Is(err, ErrBadPermission) ||
		errors.Is(err, ErrMemberNotFound)
}

// ensureInstalled gives a practice created before role models the default
// preset's definitions, so a change has something to change.
func (s *Service) ensureInstalled(ctx context.Context, tx *store.Store, practiceID string) (model, error) {
	m, err := loadModel(ctx, tx, practiceID)
	if err != nil || m.installed {
		return m, err
	}
	if _, err := Install(ctx, tx, practiceID, DefaultPreset, s.d.Now()); err != nil {
		return model{}, err
	}
	return loadModel(ctx, tx, practiceID)
}

// checkManagers refuses a state in which no member who is not deactivated can
// both manage members and assign roles. Elevations do not count.
func (s *Service) checkManagers(ctx context.Context, tx *store.Store, m model, practiceID string) error {
	members, err := tx.PracticeMemberRoles(ctx, practiceID)
	if err != nil {
		return fmt.Errorf("roles: %w", err)
	}
	ids := make([]string, 0, len(members))
	for id := range members {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		md, err := loadMember(ctx, tx, id, members[id])
		if err != nil {
			return err
		}
		perms := m.compute(md, nil, time.Time{}).Permissions
		if Allows(perms, PermManageMembers) && Allows(perms, PermAssign) {
			return nil
		}
	}
	return ErrLastManager
}

// CheckRemoval reports ErrLastManager when deactivating or removing the
// member would leave the practice without anyone who can manage members and
// assign roles. Call it inside the transaction that removes the member, after
// tx.LockPractice.
func (s *Service) CheckRemoval(ctx context.Context, tx *store.Store, practiceID, memberID string) error {
	m, err := loadModel(ctx, tx, practiceID)
	if err != nil {
		return err
	}
	members, err := tx.PracticeMemberRoles(ctx, practiceID)
	if err != nil {
		return fmt.Errorf("roles: %w", err)
	}
	for id, held := range members {
		if id == memberID {
			continue
		}
		md, err := loadMember(ctx, tx, id, held)
		if err != nil {
			return err
		}
		perms := m.compute(md, nil, time.Time{}).Permissions
		if Allows(perms, PermManageMembers) && Allows(perms, PermAssign) {
			return nil
		}
	}
	return ErrLastManager
}

// target loads the member a change is about, in the actor's practice.
func (c *change) target(ctx context.Context, practiceID, memberID string) (store.Member, memberData, error) {
	mem, err := c.tx.MemberByID(ctx, practiceID, memberID)
	if errors.Is(err, store.ErrNotFound) || err == nil && mem.Status == store.StatusDeactivated {
		return store.Member{}, memberData{}, ErrMemberNotFound
	}
	if err != nil {
		return store.Member{}, memberData{}, fmt.Errorf("roles: %w", err)
	}
	md, err := loadMember(ctx, c.tx, memberID, mem.Roles)
	if err != nil {
		return store.Member{}, memberData{}, err
	}
	c.event.SubjectID = memberID
	return mem, md, nil
}

// gained lists the permissions in after that before does not already imply.
func gained(before, after []string) []string {
	var out []string
	for _, p := range after {
		if !Allows(before, p) {
			out = append(out, p)
		}
	}
	return out
}

// SetMemberRoles replaces the roles a member holds. The actor needs
// roles.assign and must be allowed to give every role the member holds
// before and after (MayGive); the roles must exist and meet their
// constraints; the practice must keep a member who can manage members and
// assign roles.
func (s *Service) SetMemberRoles(ctx context.Context, a Actor, memberID string, roleKeys []string, meta Meta) error {
	return s.administer(ctx, a, PermAssign, "role.assign", meta, func(c *change) error {
		_, md, err := c.target(ctx, a.PracticeID, memberID)
		if err != nil {
			return err
		}
		after := sortedSet(roleKeys)
		c.event.Details["before"] = strings.Join(sortedSet(md.held), ",")
		c.event.Details["after"] = truncate(strings.Join(after, ","), 2000)
		if err := CheckHeld(c.model.defs, after); err != nil {
			return err
		}
		// Every role taken away or kept must be one the actor may give too:
		// nobody changes the roles of someone they do not staff.
		if err := c.giver.staff(c.model, md.held, after); err != nil {
			return err
		}
		return c.tx.SetMemberRoles(ctx, memberID, after)
	})
}

// SetMemberOverrides replaces a member's overrides (grants and denials of
// single permissions). Like roles, it needs roles.assign; the actor must be
// allowed to give every role the member holds, and some role the actor may
// give must include every permission the member gains.
func (s *Service) SetMemberOverrides(ctx context.Context, a Actor, memberID string, overrides []Override, meta Meta) error {
	return s.administer(ctx, a, PermAssign, "role.override", meta, func(c *change) error {
		return c.setOverrides(ctx, a.PracticeID, memberID, func([]Override) ([]Override, error) { return overrides, nil })
	})
}

// setOverrides replaces the member's overrides with what next makes of the
// current ones, inside the change's transaction.
func (c *change) setOverrides(ctx context.Context, practiceID, memberID string,
	next func(current []Override) ([]Override, error)) error {
	_, md, err := c.target(ctx, practiceID, memberID)
	if err != nil {
		return err
	}
	if err := c.giver.staff(c.model, md.held); err != nil {
		return err
	}
	overrides, err := next(md.overrides)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	var stored []store.MemberOverride
	for _, o := range overrides {
		// A new grant must carry a scope the permission has; a denial may
		// name any (denying :own denies every scope), and what the member
		// had before is re-checked, not held to what is new.
		validate := ValidateNew
		if !o.Grant || slices.Contains(md.overrides, o) {
			validate = Validate
		}
		if err := validate(o.Permission); err != nil {
			return err
		}
		if seen[o.Permission] {
			return ErrInvalid.Withf("%s is overridden twice; keep one", o.Permission)
		}
		seen[o.Permission] = true
		stored = append(stored, store.MemberOverride{Permission: o.Permission, Grant: o.Grant})
	}
	c.event.Details["before"] = formatOverrides(md.overrides)
	c.event.Details["after"] = truncate(formatOverrides(overrides), 4000)
	before := c.model.compute(md, nil, time.Time{}).Permissions
	md.overrides = overrides
	c.grants = gained(before, c.model.compute(md, nil, time.Time{}).Permissions)
	return c.tx.SetMemberOverrides(ctx, memberID, stored)
}

// ApplyMemberOption adds (on) or removes (off) the overrides of one of the
// preset's member options ("billing off for this practitioner"), keeping the
// member's other overrides. It needs roles.assign, like any override.
func (s *Service) ApplyMemberOption(ctx context.Context, a Actor, memberID, option string, on bool, meta Meta) error {
	return s.administer(ctx, a, PermAssign, "role.override", meta, func(c *change) error {
		c.event.Details["option"] = truncate(option, 100)
		c.event.Details["option_on"] = strconv.FormatBool(on)
		i := slices.IndexFunc(c.model.preset.MemberOptions, func(o MemberOption) bool { return o.Key == option })
		if i < 0 {
			return ErrInvalid.Withf("the practice's preset has no member option %q", option)
		}
		opt := c.model.preset.MemberOptions[i]
		return c.setOverrides(ctx, a.PracticeID, memberID, func(current []Override) ([]Override, error) {
			next := map[string]bool{}
			for _, o := range current {
				next[o.Permission] = o.Grant
			}
			for _, o := range opt.Overrides {
				if on {
					next[o.Permission] = o.Grant
				} else if g, ok := next[o.Permission]; ok && g == o.Grant {
					delete(next, o.Permission)
				}
			}
			list := make([]Override, 0, len(next))
			for p, g := range next {
				list = append(list, Override{Permission: p, Grant: g})
			}
			slices.SortFunc(list, func(x, y Override) int { return strings.Compare(x.Permission, y.Permission) })
			return list, nil
		})
	})
}

func formatOverrides(ov []Override) string {
	parts := make([]string, 0, len(ov))
	for _, o := range ov {
		sign := "-"
		if o.Grant {
			sign = "+"
		}
		parts = append(parts, sign+o.Permission)
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}

// SetToggle turns a practice-wide toggle on or off. It needs roles.define;
// turning on a toggle that grants, or off one that revokes, gives the
// affected members permissions the actor must hold.
func (s *Service) SetToggle(ctx context.Context, a Actor, key string, on bool, meta Meta) error {
	return s.administer(ctx, a, PermDefine, "role.toggle", meta, func(c *change) error {
		i := slices.IndexFunc(c.model.preset.Toggles, func(t Toggle) bool { return t.Key == key })
		if i < 0 {
			return ErrInvalid.Withf("the practice has no toggle %q", key)
		}
		t := c.model.preset.Toggles[i]
		was, ok := c.model.toggleOn[key]
		if !ok {
			was = t.Default
		}
		c.event.Details["toggle"] = truncate(key, 100)
		c.event.Details["before"] = strconv.FormatBool(was)
		c.event.Details["after"] = strconv.FormatBool(on)
		if on {
			c.grants = t.On.Grant
		} else {
			c.grants = t.On.Revoke
		}
		// A toggle changes what every holder of its roles may do: the actor
		// must be allowed to give each of them.
		if err := c.giver.giveRoles(c.model, t.Roles); err != nil {
			return err
		}
		next := make(map[string]bool, len(c.model.toggleOn)+1)
		for k, v := range c.model.toggleOn {
			next[k] = v
		}
		next[key] = on
		c.model.toggleOn = next
		return c.tx.PutRoleModel(ctx, store.RoleModel{PracticeID: a.PracticeID, Preset: c.model.preset.Key,
			Toggles: next, UpdatedAt: s.d.Now()})
	})
}

// PutRole adds a role to the practice or replaces the one with the same key.
// It needs roles.define; the actor must be allowed to give the role (when it
// exists) and every role it gives, and some role the actor may give must
// include every permission the role gains. A definition whose Gives is nil
// keeps what the existing role gives. Members already holding roles must
// still meet every constraint.
func (s *Service) PutRole(ctx context.Context, a Actor, r Role, meta Meta) error {
	return s.administer(ctx, a, PermDefine, "role.define", meta, func(c *change) error {
		if i := slices.IndexFunc(c.model.defs, func(d Role) bool { return d.Key == r.Key }); i >= 0 && r.Gives == nil {
			r.Gives = c.model.defs[i].Gives // a definition without "gives" keeps what the role gives
		}
		var had []string
		if i := slices.IndexFunc(c.model.defs, func(d Role) bool { return d.Key == r.Key }); i >= 0 {
			had = c.model.defs[i].Permissions
		}
		for _, p := range r.Permissions {
			if !slices.Contains(had, p) {
				if err := ValidateNew(p); err != nil {
					return err
				}
			}
		}
		checked, err := r.Check()
		if err != nil {
			return err
		}
		defs := slices.Clone(c.model.defs)
		c.event.Details["role"] = checked.Key
		c.event.Details["after"] = describeRole(checked)
		if i := slices.IndexFunc(defs, func(d Role) bool { return d.Key == checked.Key }); i >= 0 {
			// Changing a role changes what its holders may do: only someone
			// who may give it changes it.
			if err := c.giver.giveRoles(c.model, []string{checked.Key}); err != nil {
				return err
			}
			c.event.Details["before"] = describeRole(defs[i])
			c.grants = gained(defs[i].Permissions, checked.Permissions)
			defs[i] = checked
		} else {
			c.grants = checked.Permissions
			defs = append(defs, checked)
		}
		// The role may give only roles the actor may give (no ladder); the
		// owner role's list is always every role.
		if checked.Key != OwnerRole {
			for _, k := range checked.Gives {
				if !c.giver.operator && !slices.Contains(c.giver.roles, k) {
					return c.giver.giveRoles(c.model, []string{k})
				}
			}
		}
		return c.replaceDefs(ctx, a.PracticeID, defs, s.d.Now())
	})
}

// DeleteRole removes a role no member holds. The owner role cannot be
// deleted.
func (s *Service) DeleteRole(ctx context.Context, a Actor, key string, meta Meta) error {
	return s.administer(ctx, a, PermDefine, "role.delete", meta, func(c *change) error {
		if key == OwnerRole {
			return ErrInvalidRole.Withf("the %q role cannot be deleted; edit it instead", OwnerRole)
		}
		i := slices.IndexFunc(c.model.defs, func(d Role) bool { return d.Key == key })
		if i < 0 {
			return ErrInvalid.Withf("the practice has no role %q", key)
		}
		c.event.Details["role"] = truncate(key, 100)
		c.event.Details["before"] = describeRole(c.model.defs[i])
		if err := c.giver.giveRoles(c.model, []string{key}); err != nil {
			return err
		}
		members, err := c.tx.PracticeMemberRoles(ctx, a.PracticeID)
		if err != nil {
			return fmt.Errorf("roles: %w", err)
		}
		n := 0
		for _, held := range members {
			if slices.Contains(held, key) {
				n++
			}
		}
		if n > 0 {
			return ErrInvalid.Withf("%d member(s) hold %s; change their roles first", n, key)
		}
		return c.replaceDefs(ctx, a.PracticeID, slices.Delete(slices.Clone(c.model.defs), i, i+1), s.d.Now())
	})
}

// replaceDefs validates and stores a new set of definitions, checking every
// member's roles against the new constraints.
func (c *change) replaceDefs(ctx context.Context, practiceID string, defs []Role, at time.Time) error {
	checked, err := CheckSet(defs)
	if err != nil {
		return err
	}
	members, err := c.tx.PracticeMemberRoles(ctx, practiceID)
	if err != nil {
		return fmt.Errorf("roles: %w", err)
	}
	for _, held := range members {
		if err := CheckHeld(checked, held); err != nil {
			return problem.Append(err, " (a member holds roles that would break it; change their roles first)")
		}
	}
	// Keep the practice's display order: existing roles in place, new ones last.
	order := func(k string) int {
		if i := slices.IndexFunc(defs, func(d Role) bool { return d.Key == k }); i >= 0 {
			return i
		}
		return len(defs)
	}
	slices.SortStableFunc(checked, func(x, y Role) int { return order(x.Key) - order(y.Key) })
	c.model.defs = checked
	return c.tx.ReplaceRoleDefinitions(ctx, practiceID, toStoreDefs(practiceID, checked, at))
}

func describeRole(r Role) string {
	s := r.Name + " [" + strings.Join(r.Permissions, " ") + "]"
	if len(r.Requires) > 0 {
		s += " requires " + strings.Join(r.Requires, ",")
	}
	if len(r.Exclusive) > 0 {
		s += " exclusive " + strings.Join(r.Exclusive, ",")
	}
	return truncate(s, 4000)
}

// SupervisorLink names one supervisor of a member and what they must co-sign.
type SupervisorLink struct {
	SupervisorID         string
	CosignNotes          bool
	CosignTreatmentPlans bool
}

// SetSupervisors replaces a member's supervisors (any number, none to end
// supervision). It needs roles.assign. Each supervisor must be another active
// member of the practice who holds a permission with the supervisees scope —
// the cosign permission itself when co-signature is required.
func (s *Service) SetSupervisors(ctx context.Context, a Actor, memberID string, sups []SupervisorLink, meta Meta) error {
	return s.setSupervisors(ctx, nil, a, memberID, sups, meta)
}

// SetSupervisorsIn is SetSupervisors inside the caller's transaction tx (a
// store bound to one, from store.InTx), so the supervision commits or rolls
// back with everything else tx writes: an invitation, its member and its
// mail are saved with the supervision the administrator asked for, or not
// at all. A refusal (the errors SetSupervisors returns) is not audited
// here; the caller rolls tx back and audits its own refusal.
func (s *Service) SetSupervisorsIn(ctx context.Context, tx *store.Store, a Actor, memberID string, sups []SupervisorLink, meta Meta) error {
	if tx == nil {
		return errors.New("roles: SetSupervisorsIn needs the caller's transaction")
	}
	return s.setSupervisors(ctx, tx, a, memberID, sups, meta)
}

// Refused reports whether err is a refusal of the role model (the actor may
// not, the request is invalid, a constraint or the last manager would be
// broken, no such member): something the administrator can act on, not a
// fault.
func Refused(err error) bool { return refused(err) }

func (s *Service) setSupervisors(ctx context.Context, outer *store.Store, a Actor, memberID string, sups []SupervisorLink, meta Meta) error {
	return s.administerIn(ctx, outer, a, PermAssign, "role.supervisors", meta, func(c *change) error {
		_, md, err := c.target(ctx, a.PracticeID, memberID)
		if err != nil {
			return err
		}
		// Supervision gives the supervisor the member's clients: the actor
		// must staff the member. A supervisor already holds a supervising
		// role someone was allowed to give, so may be an owner.
		if err := c.giver.staff(c.model, md.held); err != nil {
			return err
		}
		now := s.d.Now()
		var stored []store.Supervision
		var after []string
		for _, v := range sups {
			if v.SupervisorID == memberID {
				return ErrInvalid.Withf("a member cannot supervise themselves")
			}
			eff, err := s.effective(ctx, c.tx, a.PracticeID, v.SupervisorID, false)
			if errors.Is(err, ErrMemberNotFound) {
				return ErrInvalid.Withf("supervisor %q is not an active member of this practice", v.SupervisorID)
			}
			if err != nil {
				return err
			}
			if !supervises(eff.Permissions) ||
				v.CosignNotes && !Allows(eff.Permissions, PermCosignNotesForSupervisees) ||
				v.CosignTreatmentPlans && !Allows(eff.Permissions, PermCosignPlansForSupervisees) {
				return ErrInvalid.Withf("member %q lacks the supervisor permissions this needs; give them a supervisor role first",
					v.SupervisorID)
			}
			stored = append(stored, store.Supervision{MemberID: memberID, SupervisorID: v.SupervisorID,
				CosignNotes: v.CosignNotes, CosignPlans: v.CosignTreatmentPlans, CreatedAt: now})
			after = append(after, formatSupervision(v))
		}
		c.event.Details["before"] = strings.Join(md.supervisor, ",")
		c.event.Details["after"] = strings.Join(sortedSet(after), ",")
		if err := c.tx.SetSupervisors(ctx, memberID, stored); errors.Is(err, store.ErrConflict) {
			return ErrInvalid.Withf("a supervisor is listed twice")
		} else if err != nil {
			return err
		}
		return nil
	})
}

func supervises(perms []string) bool {
	return slices.ContainsFunc(perms, func(p string) bool { return strings.HasSuffix(p, ":"+string(ScopeSupervisees)) }) ||
		Allows(perms, PermCosignNotesForSupervisees) || Allows(perms, PermCosignPlansForSupervisees)
}

func formatSupervision(v SupervisorLink) string {
	s := v.SupervisorID
	if v.CosignNotes {
		s += "+notes"
	}
	if v.CosignTreatmentPlans {
		s += "+plans"
	}
	return s
}

// Supervision describes a member's place in supervision.
type Supervision struct {
	Supervisors []SupervisorLink // who supervises the member
	Supervisees []string         // whom the member supervises
}

// Supervision returns the member's supervisors (with co-signature
// requirements) and supervisees.
func (s *Service) Supervision(ctx context.Context, practiceID, memberID string) (Supervision, error) {
	if _, err := s.d.Store.MemberByID(ctx, practiceID, memberID); errors.Is(err, store.ErrNotFound) {
		return Supervision{}, ErrMemberNotFound
	} else if err != nil {
		return Supervision{}, fmt.Errorf("roles: %w", err)
	}
	sups, err := s.d.Store.Supervisors(ctx, memberID)
	if err != nil {
		return Supervision{}, fmt.Errorf("roles: %w", err)
	}
	sees, err := s.d.Store.Supervisees(ctx, memberID)
	if err != nil {
		return Supervision{}, fmt.Errorf("roles: %w", err)
	}
	var out Supervision
	for _, v := range sups {
		out.Supervisors = append(out.Supervisors, SupervisorLink{SupervisorID: v.SupervisorID, CosignNotes: v.CosignNotes,
			CosignTreatmentPlans: v.CosignPlans})
	}
	for _, v := range sees {
		out.Supervisees = append(out.Supervisees, v.MemberID)
	}
	return out, nil
}

// GrantElevation grants a member emergency (break-glass) access: the given
// permissions for d (DefaultElevation when 0, at most MaxElevation), with a
// mandatory reason. The actor needs elevation.grant and must hold every
// permission granted. The elevation ends on its own; it is audited, and the
// practice's administrators (members with audit.view) are notified.
func (s *Service) GrantElevation(ctx context.Context, a Actor, memberID string, perms []string, d time.Duration,
	reason string, meta Meta) (Elevation, error) {
	reason = strings.TrimSpace(reason)
	switch {
	case d == 0:
		d = DefaultElevation
	case d < time.Minute || d > MaxElevation:
		return Elevation{}, ErrInvalid.Withf("an elevation lasts between 1 minute and %s", MaxElevation)
	}
	if err := checkText(reason, 500, true); err != nil || len([]rune(reason)) < 10 {
		return Elevation{}, ErrInvalid.Withf("reason: say why emergency access is needed, in 10 to 500 characters")
	}
	normalized, err := Normalize(perms)
	if err != nil {
		return Elevation{}, err
	}
	for _, p := range normalized {
		if err := ValidateNew(p); err != nil {
			return Elevation{}, err
		}
	}
	if len(normalized) == 0 {
		return Elevation{}, ErrInvalid.Withf("name at least one permission to grant")
	}
	for _, p := range normalized {
		if administrative(p) {
			return Elevation{}, ErrInvalid.Withf("%s is an administration permission; emergency access grants access to "+
				"clients, notes, schedules and billing only", p)
		}
	}
	now := s.d.Now()
	e := Elevation{ID: s.d.NewID(), PracticeID: a.PracticeID, MemberID: memberID, GrantedBy: a.MemberID,
		Permissions: normalized, Reason: reason, CreatedAt: now, ExpiresAt: now.Add(d)}
	var recipients []string
	err = s.administer(ctx, a, PermGrantElevation, "elevation.grant", meta, func(c *change) error {
		_, md, err := c.target(ctx, a.PracticeID, memberID)
		if err != nil {
			return err
		}
		if err := c.giver.staff(c.model, md.held); err != nil {
			return err
		}
		c.grants = normalized
		c.event.Details["permissions"] = strings.Join(normalized, " ")
		c.event.Details["reason"] = reason
		c.event.Details["expires_at"] = e.ExpiresAt.UTC().Format(time.RFC3339)
		c.event.Details["elevation_id"] = e.ID
		if err := c.tx.CreateElevation(ctx, store.Elevation{ID: e.ID, PracticeID: e.PracticeID, MemberID: e.MemberID,
			GrantedBy: e.GrantedBy, Permissions: e.Permissions, Reason: e.Reason, CreatedAt: e.CreatedAt,
			ExpiresAt: e.ExpiresAt}); err != nil {
			return fmt.Errorf("roles: %w", err)
		}
		recipients, err = s.holders(ctx, c.tx, c.model, a.PracticeID, PermAudit)
		if err != nil || s.d.NotifyTx == nil {
			return err
		}
		return s.d.NotifyTx(ctx, c.tx, ElevationNotice{PracticeID: a.PracticeID, Elevation: e, RecipientIDs: recipients})
	})
	if err != nil {
		return Elevation{}, err
	}
	n := ElevationNotice{PracticeID: a.PracticeID, Elevation: e, RecipientIDs: recipients}
	s.d.Logger.WarnContext(ctx, "emergency access granted", "practice_id", a.PracticeID, "member_id", memberID,
		"granted_by", a.MemberID, "expires_at", e.ExpiresAt, "notify", len(recipients))
	if len(recipients) == 0 {
		s.d.Logger.ErrorContext(ctx, "emergency access granted but no member holds audit.view to be told; the audit trail has it",
			"practice_id", a.PracticeID)
	}
	switch {
	case s.d.NotifyTx != nil:
		if s.d.Queued != nil {
			s.d.Queued()
		}
	case s.d.Notify != nil:
		if err := s.d.Notify(ctx, n); err != nil {
			s.d.Logger.ErrorContext(ctx, "emergency access notice not delivered; the audit trail has it", "err", err)
		}
	}
	return e, nil
}

// administrative reports whether p belongs to the catalogue's Administration
// group, which emergency elevations never grant.
func administrative(p string) bool {
	parsed, err := Parse(p)
	if err != nil {
		return true
	}
	for _, e := range Catalogue() {
		if e.Name == parsed.Key() {
			return e.Group == "Administration"
		}
	}
	return false
}

// EndElevation ends an emergency elevation before it expires. It needs
// elevation.grant.
func (s *Service) EndElevation(ctx context.Context, a Actor, elevationID string, meta Meta) error {
	return s.administer(ctx, a, PermGrantElevation, "elevation.end", meta, func(c *change) error {
		c.event.Details["elevation_id"] = truncate(elevationID, 100)
		err := c.tx.EndElevation(ctx, a.PracticeID, elevationID, a.MemberID, s.d.Now())
		if errors.Is(err, store.ErrNotFound) {
			return ErrInvalid.Withf("no running elevation %q in this practice", elevationID)
		}
		return err
	})
}

// Holders lists the members of the practice (not deactivated) whose
// permissions, without elevations, imply perm — for example who may unlock
// accounts (PermUnlock) and so should hear about a lock.
func (s *Service) Holders(ctx context.Context, practiceID, perm string) ([]string, error) {
	m, err := loadModel(ctx, s.d.Store, practiceID)
	if err != nil {
		return nil, err
	}
	return s.holders(ctx, s.d.Store, m, practiceID, perm)
}

// holders lists the members (not deactivated) whose permissions, without
// elevations, imply perm.
func (s *Service) holders(ctx context.Context, tx *store.Store, m model, practiceID, perm string) ([]string, error) {
	members, err := tx.PracticeMemberRoles(ctx, practiceID)
	if err != nil {
		return nil, fmt.Errorf("roles: %w", err)
	}
	var out []string
	for id, held := range members {
		md, err := loadMember(ctx, tx, id, held)
		if err != nil {
			return nil, err
		}
		if Allows(m.compute(md, nil, time.Time{}).Permissions, perm) {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out, nil
}

func truncate(v string, n int) string {
	if len(v) <= n {
		return v
	}
	for n > 0 && (v[n]&0xC0) == 0x80 {
		n--
	}
	return v[:n]
}
