package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Practice is one practice (tenant). Every member, link and session belongs to
// exactly one practice.
type Practice struct {
	ID   string
	Slug string // the practice's URL name: /p/{slug}/login
	Name string
	// Settings are practice-wide options (toggles, branding) as a JSON object.
	Settings  map[string]any
	CreatedAt time.Time
	// TimeZone is the IANA name of the practice's time zone ("UTC" unless
	// an administrator chose one): the audit trail, staff pages and mails
	// show times in it; exports stay UTC.
	TimeZone string
	// Onboarding is how new staff get access: "" follows the role preset,
	// or OnboardingInvitation / OnboardingTemporaryPassword chosen by an
	// administrator.
	Onboarding string
}

// Onboarding choices a practice may store (Practice.Onboarding).
const (
	OnboardingInvitation        = "invitation"
	OnboardingTemporaryPassword = "temporary_password"
)

// CreatePractice inserts p. It returns ErrConflict when the slug is taken.
func (s *Store) CreatePractice(ctx context.Context, p Practice) error {
	settings, err := json.Marshal(orEmpty(p.Settings))
	if err != nil {
		return fmt.Errorf("store: practice settings: %w", err)
	}
	_, err = s.exec(ctx, `INSERT INTO practices (id, slug, name, settings, created_at, time_zone, onboarding)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, p.ID, p.Slug, p.Name, string(settings), micros(p.CreatedAt),
		orDefault(p.TimeZone, "UTC"), p.Onboarding)
	if isUniqueViolation(err) {
		return fmt.Errorf("practice %q: %w", p.Slug, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("store: create practice: %w", err)
	}
	return nil
}

const practiceColumns = `id, slug, name, settings, created_at, time_zone, onboarding`

// PracticeBySlug finds a practice by its slug.
func (s *Store) PracticeBySlug(ctx context.Context, slug string) (Practice, error) {
	return s.scanPractice(s.queryRow(ctx, `SELECT `+practiceColumns+` FROM practices WHERE slug = $1`, slug), "practice by slug")
}

// PracticeByID finds a practice by its ID.
func (s *Store) PracticeByID(ctx context.Context, id string) (Practice, error) {
	return s.scanPractice(s.queryRow(ctx, `SELECT `+practiceColumns+` FROM practices WHERE id = $1`, id), "practice by id")
}

// CountPractices reports how many practices exist; the first start uses it to
// decide whether to create the demo practice.
func (s *Store) CountPractices(ctx context.Context) (int, error) {
	var n int
	if err := s.queryRow(ctx, `SELECT COUNT(*) FROM practices`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count practices: %w", err)
	}
	return n, nil
}

func (s *Store) scanPractice(row interface{ Scan(...any) error }, what string) (Practice, error) {
	var (
		p        Practice
		settings string
		created  int64
	)
	if err := row.Scan(&p.ID, &p.Slug, &p.Name, &settings, &created, &p.TimeZone, &p.Onboarding); err != nil {
		return Practice{}, notFound(err, what)
	}
	if err := json.Unmarshal([]byte(settings), &p.Settings); err != nil {
		return Practice{}, fmt.Errorf("store: %s: settings: %w", what, err)
	}
	p.CreatedAt = fromMicros(created)
	return p, nil
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// ListPractices returns every practice, ordered by slug. Operators use it;
// a deployment has at most some thousands of practices.
func (s *Store) ListPractices(ctx context.Context) ([]Practice, error) {
	rows, err := s.query(ctx, `SELECT `+practiceColumns+` FROM practices ORDER BY slug`)
	if err != nil {
		return nil, fmt.Errorf("store: list practices: %w", err)
	}
	defer rows.Close()
	var out []Practice
	for rows.Next() {
		p, err := s.scanPractice(rows, "list practices")
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list practices: %w", err)
	}
	return out, nil
}

// SetPracticeTimeZone stores the practice's time zone (an IANA name the
// caller has checked).
func (s *Store) SetPracticeTimeZone(ctx context.Context, practiceID, tz string) error {
	return s.expectOne(s.exec(ctx, `UPDATE practices SET time_zone = $1 WHERE id = $2`, tz, practiceID))("set time zone")
}

// SetPracticeOnboarding stores how the practice onboards new staff: "",
// OnboardingInvitation or OnboardingTemporaryPassword (checked by the caller).
func (s *Store) SetPracticeOnboarding(ctx context.Context, practiceID, onboarding string) error {
	return s.expectOne(s.exec(ctx, `UPDATE practices SET onboarding = $1 WHERE id = $2`, onboarding, practiceID))("set onboarding")
}
