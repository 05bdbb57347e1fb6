package account

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/frontdeskhq/frontdesk/identity/roles"
	"github.com/frontdeskhq/frontdesk/identity/store"
)

// Bounds of a practitioner profile's fields.
const (
	MaxLegalNameRunes   = 200
	MaxCredentialsRunes = 100
)

// PractitionerUpdate changes a member's practitioner profile (seed 003,
// "Edit Clinical Information"); nil fields stay as they are, "" clears a
// field. The preferred name is the display name.
type PractitionerUpdate struct {
	LegalName     *string
	PreferredName *string
	Credentials   *string
	NPI           *string
	Taxonomy      *string
}

// CheckNPI checks a National Provider Identifier: ten digits whose last is
// the Luhn check digit computed over the prefix 80840 and the first nine
// digits, as CMS specifies ("NPI Check Digit", the ISO standard card issuer
// prefix for US health applications).
func CheckNPI(npi string) error {
	invalid := &InvalidInputError{Field: "npi",
		Reason: "is not a valid NPI; an NPI is 10 digits and its last digit is a check digit — copy it from NPPES or the practitioner's license records"}
	if len(npi) != 10 {
		return invalid
	}
	for i := 0; i < 10; i++ {
		if npi[i] < '0' || npi[i] > '9' {
			return invalid
		}
	}
	if !luhnValid("80840" + npi) {
		return invalid
	}
	return nil
}

// luhnValid reports whether the digit string ends in its Luhn check digit.
func luhnValid(digits string) bool {
	sum := 0
	double := false
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

// CheckTaxonomy checks a Health Care Provider Taxonomy code (NUCC): ten
// characters, three digits, six digits or capital letters, and a final X
// ("101YM0800X"). Lower-case letters are accepted and returned upper-cased.
func CheckTaxonomy(code string) (string, error) {
	code = strings.ToUpper(strings.TrimSpace(code))
	invalid := &InvalidInputError{Field: "taxonomy",
		Reason: "is not a taxonomy code; a code has 10 characters and ends in X, such as 101YM0800X (Mental Health Counselor)"}
	if len(code) != 10 || code[9] != 'X' {
		return "", invalid
	}
	for i := 0; i < 9; i++ {
		c := code[i]
		digit := c >= '0' && c <= '9'
		if i < 3 && !digit || !digit && (c < 'A' || c > 'Z') {
			return "", invalid
		}
	}
	return code, nil
}

// checkPractitioner checks and normalises an update.
func checkPractitioner(u PractitionerUpdate) (PractitionerUpdate, error) {
	optional := func(field string, v *string, max int) error {
		if v == nil || strings.TrimSpace(*v) == "" {
			if v != nil {
				*v = ""
			}
			return nil
		}
		t, err := CheckText(field, *v, max)
		if err != nil {
			return err
		}
		*v = t
		return nil
	}
	if err := optional("legal_name", u.LegalName, MaxLegalNameRunes); err != nil {
		return u, err
	}
	if err := optional("preferred_name", u.PreferredName, MaxDisplayNameRunes); err != nil {
		return u, err
	}
	if err := optional("credentials", u.Credentials, MaxCredentialsRunes); err != nil {
		return u, err
	}
	if u.NPI != nil {
		*u.NPI = strings.TrimSpace(*u.NPI)
		if *u.NPI != "" {
			if err := CheckNPI(*u.NPI); err != nil {
				return u, err
			}
		}
	}
	if u.Taxonomy != nil && strings.TrimSpace(*u.Taxonomy) != "" {
		code, err := CheckTaxonomy(*u.Taxonomy)
		if err != nil {
			return u, err
		}
		*u.Taxonomy = code
	} else if u.Taxonomy != nil {
		*u.Taxonomy = ""
	}
	return u, nil
}

// SetPractitionerProfile changes a member's practitioner profile: legal
// name (claims and superbills), preferred name (the display name shown in
// apps), credentials, NPI (its check digit verified) and taxonomy code. The
// actor needs members.manage. Every field is checked before anything is
// written; the change is audited as member.profile with each changed
// field's before and after. Apps read the fields in the practitioner
// scope's claims from the next token on.
func (s *Service) SetPractitionerProfile(ctx context.Context, practiceSlug string, a Actor, memberID string, u PractitionerUpdate, meta Meta) (store.Member, error) {
	p, err := s.Practice(ctx, practiceSlug)
	if err != nil {
		return store.Member{}, err
	}
	if _, err := s.require(ctx, p, a, roles.PermManageMembers); err != nil {
		s.refuseAudit(ctx, p, a, "member.profile", memberID, err, meta)
		return store.Member{}, err
	}
	if u, err = checkPractitioner(u); err != nil {
		return store.Member{}, err
	}
	err = s.d.Store.InTx(ctx, func(tx *store.Store) error {
		m, err := tx.MemberByID(ctx, p.ID, memberID)
		if errors.Is(err, store.ErrNotFound) {
			return ErrMemberNotFound
		} else if err != nil {
			return err
		}
		before := m.Profile()
		after := before
		for _, f := range []struct {
			v   *string
			dst *string
		}{{u.LegalName, &after.LegalName}, {u.PreferredName, &after.PreferredName}, {u.Credentials, &after.Credentials},
			{u.NPI, &after.NPI}, {u.Taxonomy, &after.Taxonomy}} {
			if f.v != nil {
				*f.dst = *f.v
			}
		}
		if after == before {
			return nil
		}
		if err := tx.SetPractitionerProfile(ctx, m.ID, after, s.d.Now()); err != nil {
			return err
		}
		details := map[string]string{}
		var fields []string
		for _, f := range []struct{ name, b, a string }{{"legal_name", before.LegalName, after.LegalName},
			{"display_name", before.PreferredName, after.PreferredName}, {"credentials", before.Credentials, after.Credentials},
			{"npi", before.NPI, after.NPI}, {"taxonomy", before.Taxonomy, after.Taxonomy}} {
			if f.b != f.a {
				fields = append(fields, f.name)
				details[f.name+"_before"], details[f.name+"_after"] = f.b, f.a
			}
		}
		details["field"] = strings.Join(fields, ",")
		return s.audit(ctx, tx, store.AuditEvent{PracticeID: p.ID, Action: "member.profile", Outcome: "success",
			ActorID: a.id(), SubjectID: m.ID, Details: details}, meta)
	})
	if errors.Is(err, ErrMemberNotFound) {
		return store.Member{}, err
	}
	if err != nil {
		return store.Member{}, fmt.Errorf("account: set practitioner profile: %w", err)
	}
	return s.d.Store.MemberByID(ctx, p.ID, memberID)
}
