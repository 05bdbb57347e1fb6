package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// AuditEvent is one entry of the append-only audit trail: who (actor) did what
// (action) to whom (subject), in which practice, when, from where, and with what
// outcome. Details must never hold a secret.
type AuditEvent struct {
	ID         int64
	PracticeID string // "" for events outside any practice
	At         time.Time
	Action     string // e.g. "login", "logout", "password.change", "practice.create"
	Outcome    string // "success" or "failure"
	ActorID    string // the member acting, "" for an anonymous or operator action
	SubjectID  string // the member acted upon
	ClientAddr string
	UserAgent  string
	RequestID  string
	Details    map[string]string
}

// AppendAudit appends e to the audit trail, hash-chained to the previous event
// of the same practice (see auditchain.go). Rows are never updated or deleted.
// Text fields are stored with NUL and invalid UTF-8 replaced by U+FFFD so both
// engines store (and hash) the same bytes. Inside a transaction the append
// joins it; otherwise it runs in its own.
func (s *Store) AppendAudit(ctx context.Context, e AuditEvent) error {
	e.PracticeID = sanitizeAuditField(e.PracticeID)
	for _, f := range []*string{&e.Action, &e.Outcome, &e.ActorID, &e.SubjectID, &e.ClientAddr,
		&e.UserAgent, &e.RequestID} {
		*f = sanitizeAuditField(*f)
	}
	var clean map[string]string
	if e.Details != nil {
		clean = make(map[string]string, len(e.Details))
		for k, v := range e.Details {
			clean[sanitizeAuditField(k)] = sanitizeAuditField(v)
		}
	}
	details, err := json.Marshal(clean)
	if err != nil {
		return fmt.Errorf("store: audit details: %w", err)
	}
	if clean == nil {
		details = []byte("{}")
	}
	return s.InTx(ctx, func(tx *Store) error { return tx.appendChained(ctx, e, string(details)) })
}

// ListAudit returns up to limit of the practice's most recent audit events,
// newest first.
func (s *Store) ListAudit(ctx context.Context, practiceID string, limit int) ([]AuditEvent, error) {
	rows, err := s.query(ctx, `SELECT id, COALESCE(practice_id, ''), at, action, outcome, actor_id, subject_id,
		client_addr, user_agent, request_id, details FROM audit_events WHERE practice_id = $1
		ORDER BY id DESC LIMIT $2`, practiceID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: list audit: %w", err)
	}
	defer rows.Close()
	var out []AuditEvent
	for rows.Next() {
		var (
			e       AuditEvent
			at      int64
			details string
		)
		if err := rows.Scan(&e.ID, &e.PracticeID, &at, &e.Action, &e.Outcome, &e.ActorID, &e.SubjectID,
			&e.ClientAddr, &e.UserAgent, &e.RequestID, &details); err != nil {
			return nil, fmt.Errorf("store: list audit: %w", err)
		}
		e.At = fromMicros(at)
		if err := json.Unmarshal([]byte(details), &e.Details); err != nil {
			return nil, fmt.Errorf("store: audit details: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list audit: %w", err)
	}
	return out, nil
}
