package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// auditHashVersion opens every hashed record so that a future change of the
// encoding can never collide with this one.
const auditHashVersion = "frontdesk-audit-v1"

// ErrAuditChainBroken reports that the audit trail of a practice does not verify:
// a row was edited, deleted, inserted or reordered after it was written.
var ErrAuditChainBroken = errors.New("store: audit chain broken")

// AuditChainHead describes the newest link of one practice's audit chain.
// Recording Seq and Hash somewhere outside the database (a ticket, a signed
// e-mail) anchors the chain: a later verify that ends on a different hash for
// the same Seq proves the trail was rewritten.
type AuditChainHead struct {
	PracticeID string
	Seq        int64
	Hash       string
	// Unchained counts rows written before migration 00006 that no append has
	// adopted into the chain yet; they are not protected. A chain whose rows
	// are all unchained and that has no head row is also what an attacker who
	// stripped the chain columns and deleted the head would leave: compare
	// with the head hashes you recorded.
	Unchained int64
}

// AuditBreak describes the first row at which a chain stops verifying.
type AuditBreak struct {
	PracticeID string
	EventID    int64 // the row that fails, 0 when a row at the chain's end is missing
	Seq        int64 // the sequence number expected at that row
	Reason     string
}

func (b *AuditBreak) Error() string {
	return fmt.Sprintf("audit chain of practice %q broken at event %d (sequence %d): %s",
		b.PracticeID, b.EventID, b.Seq, b.Reason)
}

// Unwrap lets errors.Is(err, ErrAuditChainBroken) recognise an *AuditBreak.
func (b *AuditBreak) Unwrap() error { return ErrAuditChainBroken }

// sanitizeAuditField makes a field storable identically on both engines:
// PostgreSQL TEXT rejects NUL and invalid UTF-8, so both become U+FFFD. The hash
// covers the sanitised value, which is exactly what is stored.
func sanitizeAuditField(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return strings.ReplaceAll(s, "\x00", "\uFFFD")
}

// auditHash computes the hash of one stored event linked to prevHash. Every
// field is length-prefixed (8-byte big-endian length, then the bytes), so no
// byte inside a field — newline, NUL, separator — can move a field boundary.
// details is hashed exactly as stored (its JSON text).
func auditHash(chainKey string, seq int64, at int64, action, outcome, actor, subject,
	addr, agent, requestID, details, prevHash string) string {
	h := sha256.New()
	var n [8]byte
	field := func(s string) {
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	for _, f := range []string{auditHashVersion, chainKey, strconv.FormatInt(seq, 10),
		strconv.FormatInt(at, 10), action, outcome, actor, subject, addr, agent, requestID,
		details, prevHash} {
		field(f)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// lockAuditChain takes the practice's chain head for the rest of the
// transaction and returns its sequence number and hash. On PostgreSQL the
// no-op UPDATE holds the row lock until commit, so concurrent appenders queue
// here; SQLite serialises writers anyway (immediate transactions). A chain seen
// for the first time adopts the rows written before the chain existed.
func (s *Store) lockAuditChain(ctx context.Context, chainKey string) (int64, string, error) {
	if _, err := s.exec(ctx, `INSERT INTO audit_chain_heads (chain_key, seq, hash) VALUES ($1, 0, '')
		ON CONFLICT (chain_key) DO NOTHING`, chainKey); err != nil {
		return 0, "", fmt.Errorf("store: audit chain head: %w", err)
	}
	if _, err := s.exec(ctx, `UPDATE audit_chain_heads SET seq = seq WHERE chain_key = $1`, chainKey); err != nil {
		return 0, "", fmt.Errorf("store: lock audit chain: %w", err)
	}
	var (
		seq  int64
		hash string
	)
	if err := s.queryRow(ctx, `SELECT seq, hash FROM audit_chain_heads WHERE chain_key = $1`,
		chainKey).Scan(&seq, &hash); err != nil {
		return 0, "", fmt.Errorf("store: read audit chain head: %w", err)
	}
	if seq == 0 {
		return s.adoptLegacyAudit(ctx, chainKey)
	}
	return seq, hash, nil
}

// adoptLegacyAudit chains, in id order, the rows of chainKey that were written
// before migration 00006 (those without a sequence number). It runs once per
// chain, under the head lock.
func (s *Store) adoptLegacyAudit(ctx context.Context, chainKey string) (int64, string, error) {
	rows, err := s.query(ctx, `SELECT id, at, action, outcome, actor_id, subject_id, client_addr,
		user_agent, request_id, details FROM audit_events
		WHERE COALESCE(practice_id, '') = $1 AND chain_seq IS NULL ORDER BY id`, chainKey)
	if err != nil {
		return 0, "", fmt.Errorf("store: adopt audit rows: %w", err)
	}
	type legacy struct {
		id, at                                                       int64
		action, outcome, actor, subject, addr, agent, reqID, details string
	}
	var pending []legacy
	for rows.Next() {
		var l legacy
		if err := rows.Scan(&l.id, &l.at, &l.action, &l.outcome, &l.actor, &l.subject, &l.addr,
			&l.agent, &l.reqID, &l.details); err != nil {
			rows.Close()
			return 0, "", fmt.Errorf("store: adopt audit rows: %w", err)
		}
		pending = append(pending, l)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, "", fmt.Errorf("store: adopt audit rows: %w", err)
	}
	var (
		seq  int64
		prev string
	)
	for _, l := range pending {
		seq++
		h := auditHash(chainKey, seq, l.at, l.action, l.outcome, l.actor, l.subject, l.addr, l.agent,
			l.reqID, l.details, prev)
		if _, err := s.exec(ctx, `UPDATE audit_events SET chain_seq = $1, prev_hash = $2, hash = $3
			WHERE id = $4`, seq, prev, h, l.id); err != nil {
			return 0, "", fmt.Errorf("store: adopt audit row: %w", err)
		}
		prev = h
	}
	return seq, prev, nil
}

// appendChained inserts one sanitised event at the end of its chain. The caller
// holds a transaction.
func (s *Store) appendChained(ctx context.Context, e AuditEvent, details string) error {
	chainKey := e.PracticeID
	seq, prev, err := s.lockAuditChain(ctx, chainKey)
	if err != nil {
		return err
	}
	seq++
	at := micros(e.At)
	h := auditHash(chainKey, seq, at, e.Action, e.Outcome, e.ActorID, e.SubjectID, e.ClientAddr,
		e.UserAgent, e.RequestID, details, prev)
	if _, err := s.exec(ctx, `INSERT INTO audit_events (practice_id, at, action, outcome, actor_id, subject_id,
		client_addr, user_agent, request_id, details, chain_seq, prev_hash, hash)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		nullString(e.PracticeID), at, e.Action, e.Outcome, e.ActorID, e.SubjectID,
		e.ClientAddr, e.UserAgent, e.RequestID, details, seq, prev, h); err != nil {
		return fmt.Errorf("store: append audit: %w", err)
	}
	if _, err := s.exec(ctx, `UPDATE audit_chain_heads SET seq = $1, hash = $2 WHERE chain_key = $3`,
		seq, h, chainKey); err != nil {
		return fmt.Errorf("store: advance audit chain: %w", err)
	}
	return nil
}

// AuditChains lists the practice ids that have an audit chain ("" is the chain
// of events outside any practice), in order.
func (s *Store) AuditChains(ctx context.Context) ([]string, error) {
	rows, err := s.query(ctx, `SELECT DISTINCT COALESCE(practice_id, '') FROM audit_events
		UNION SELECT chain_key FROM audit_chain_heads ORDER BY 1`)
	if err != nil {
		return nil, fmt.Errorf("store: audit chains: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, fmt.Errorf("store: audit chains: %w", err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: audit chains: %w", err)
	}
	return out, nil
}

// VerifyAuditChain walks the practice's audit chain from its first event,
// recomputing every hash. It returns the head on success and an *AuditBreak
// (errors.Is ErrAuditChainBroken) naming the first row that fails: an edited
// row fails its own hash, a deleted row leaves a gap in the sequence (or, at
// the end, a chain shorter than its head), an inserted row fails its link.
// Rows written before migration 00006 and not yet adopted are reported as a
// break too, unless the chain has no head yet (nothing appended since).
func (s *Store) VerifyAuditChain(ctx context.Context, practiceID string) (AuditChainHead, error) {
	head := AuditChainHead{PracticeID: practiceID}
	var headSeq int64
	var headHash string
	err := s.queryRow(ctx, `SELECT seq, hash FROM audit_chain_heads WHERE chain_key = $1`,
		practiceID).Scan(&headSeq, &headHash)
	hasHead := err == nil
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return head, fmt.Errorf("store: read audit chain head: %w", err)
	}
	rows, err := s.query(ctx, `SELECT id, chain_seq, at, action, outcome, actor_id, subject_id,
		client_addr, user_agent, request_id, details, COALESCE(prev_hash, ''), COALESCE(hash, '')
		FROM audit_events WHERE COALESCE(practice_id, '') = $1 ORDER BY id`, practiceID)
	if err != nil {
		return head, fmt.Errorf("store: verify audit: %w", err)
	}
	defer rows.Close()
	var (
		seq  int64
		prev string
	)
	brk := func(id, want int64, reason string) (AuditChainHead, error) {
		return head, &AuditBreak{PracticeID: practiceID, EventID: id, Seq: want, Reason: reason}
	}
	for rows.Next() {
		var (
			id, at                                                                 int64
			cseq                                                                   sql.NullInt64
			action, outcome, actor, subject, addr, agent, reqID, details, ph, hash string
		)
		if err := rows.Scan(&id, &cseq, &at, &action, &outcome, &actor, &subject, &addr, &agent,
			&reqID, &details, &ph, &hash); err != nil {
			return head, fmt.Errorf("store: verify audit: %w", err)
		}
		if !cseq.Valid {
			if !hasHead && seq == 0 {
				head.Unchained++ // legacy rows of a chain nobody has appended to since 00006
				continue
			}
			return brk(id, seq+1, "row has no sequence number or hash")
		}
		want := seq + 1
		switch {
		case cseq.Int64 > want:
			return brk(id, want, fmt.Sprintf("sequence jumps from %d to %d: %d row(s) deleted",
				seq, cseq.Int64, cseq.Int64-want))
		case cseq.Int64 < want:
			return brk(id, want, fmt.Sprintf("sequence %d repeats or goes backwards", cseq.Int64))
		case ph != prev:
			return brk(id, want, "previous-hash link does not match the row before it")
		}
		if got := auditHash(practiceID, want, at, action, outcome, actor, subject, addr, agent, reqID,
			details, prev); got != hash {
			return brk(id, want, "row content does not match its hash: the row was edited")
		}
		seq, prev = want, hash
	}
	if err := rows.Err(); err != nil {
		return head, fmt.Errorf("store: verify audit: %w", err)
	}
	if hasHead && (headSeq != seq || headHash != prev) {
		return brk(0, seq+1, fmt.Sprintf("chain ends at sequence %d but its head records %d: rows deleted from the end",
			seq, headSeq))
	}
	head.Seq, head.Hash = seq, prev
	return head, nil
}

// AuditFilter selects audit events for listing and export.
type AuditFilter struct {
	PracticeID string
	Since      time.Time // inclusive; zero for no bound
	Until      time.Time // exclusive; zero for no bound
	Action     string    // exact action, or a prefix ending in "." (e.g. "member.")
	ActorID    string
	SubjectID  string
	// Person selects events the member acted in or was acted upon (actor
	// or subject).
	Person    string
	Outcome   string
	BeforeID  int64 // only events with id < BeforeID (cursor); 0 for none
	AfterID   int64 // only events with id > AfterID (export cursor); 0 for none
	Ascending bool  // oldest first (export) instead of newest first
	Limit     int   // 0 means 100; capped at 1000
}

// QueryAudit returns the practice's audit events that match f, with their chain
// columns.
func (s *Store) QueryAudit(ctx context.Context, f AuditFilter) ([]AuditRecord, error) {
	q := `SELECT id, COALESCE(practice_id, ''), at, action, outcome, actor_id, subject_id,
		client_addr, user_agent, request_id, details, COALESCE(chain_seq, 0), COALESCE(prev_hash, ''),
		COALESCE(hash, '') FROM audit_events WHERE COALESCE(practice_id, '') = $1`
	args := []any{f.PracticeID}
	add := func(cond string, v any) {
		args = append(args, v)
		q += " AND " + strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(args)))
	}
	if !f.Since.IsZero() {
		add("at >= ?", micros(f.Since))
	}
	if !f.Until.IsZero() {
		add("at < ?", micros(f.Until))
	}
	if f.Action != "" {
		if strings.HasSuffix(f.Action, ".") {
			add("substr(action, 1, "+strconv.Itoa(len(f.Action))+") = ?", f.Action)
		} else {
			add("action = ?", f.Action)
		}
	}
	if f.ActorID != "" {
		add("actor_id = ?", f.ActorID)
	}
	if f.SubjectID != "" {
		add("subject_id = ?", f.SubjectID)
	}
	if f.Person != "" {
		args = append(args, f.Person)
		n := "$" + strconv.Itoa(len(args))
		q += " AND (actor_id = " + n + " OR subject_id = " + n + ")"
	}
	if f.Outcome != "" {
		add("outcome = ?", f.Outcome)
	}
	if f.BeforeID > 0 {
		add("id < ?", f.BeforeID)
	}
	if f.AfterID > 0 {
		add("id > ?", f.AfterID)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	if limit > 1000 {
		limit = 1000
	}
	if f.Ascending {
		q += " ORDER BY id ASC"
	} else {
		q += " ORDER BY id DESC"
	}
	args = append(args, limit)
	q += " LIMIT $" + strconv.Itoa(len(args))
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: query audit: %w", err)
	}
	defer rows.Close()
	var out []AuditRecord
	for rows.Next() {
		var (
			r  AuditRecord
			at int64
		)
		if err := rows.Scan(&r.ID, &r.PracticeID, &at, &r.Action, &r.Outcome, &r.ActorID, &r.SubjectID,
			&r.ClientAddr, &r.UserAgent, &r.RequestID, &r.DetailsJSON, &r.Seq, &r.PrevHash, &r.Hash); err != nil {
			return nil, fmt.Errorf("store: query audit: %w", err)
		}
		r.At = fromMicros(at)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: query audit: %w", err)
	}
	return out, nil
}

// AuditRecord is one stored audit event with its chain columns; DetailsJSON is
// the details object exactly as stored (and hashed).
type AuditRecord struct {
	ID          int64
	PracticeID  string
	At          time.Time
	Action      string
	Outcome     string
	ActorID     string
	SubjectID   string
	ClientAddr  string
	UserAgent   string
	RequestID   string
	DetailsJSON string
	Seq         int64
	PrevHash    string
	Hash        string
}
