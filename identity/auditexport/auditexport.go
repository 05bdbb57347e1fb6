// Package auditexport writes audit events for compliance reviews, as JSON
// Lines (exact: every stored field, including the chain columns, so a reviewer
// can re-verify the hashes) or CSV (for spreadsheets; cells that a spreadsheet
// would evaluate as a formula are prefixed with an apostrophe).
package auditexport

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/store"
)

// Format is an export format.
type Format string

// The export formats.
const (
	JSONL Format = "jsonl"
	CSV   Format = "csv"
)

// ParseFormat accepts "jsonl" (or "json") and "csv".
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(s) {
	case "jsonl", "json", "":
		return JSONL, nil
	case "csv":
		return CSV, nil
	}
	return "", fmt.Errorf("unknown export format %q; use jsonl or csv", s)
}

// ContentType is the media type of f.
func (f Format) ContentType() string {
	if f == CSV {
		return "text/csv; charset=utf-8"
	}
	return "application/jsonl; charset=utf-8"
}

// Event is the exported form of one audit event (also the admin API's JSON).
type Event struct {
	ID         int64             `json:"id"`
	Seq        int64             `json:"seq"`
	At         time.Time         `json:"at"`
	Action     string            `json:"action"`
	Outcome    string            `json:"outcome"`
	ActorID    string            `json:"actor_id"`
	SubjectID  string            `json:"subject_id"`
	ClientAddr string            `json:"client_addr"`
	UserAgent  string            `json:"user_agent"`
	RequestID  string            `json:"request_id"`
	Details    map[string]string `json:"details"`
	PrevHash   string            `json:"prev_hash"`
	Hash       string            `json:"hash"`
}

// FromRecord converts a stored record. Details that do not parse (they always
// do unless the row was tampered with) are exported under the key "_raw".
func FromRecord(r store.AuditRecord) Event {
	e := Event{ID: r.ID, Seq: r.Seq, At: r.At, Action: r.Action, Outcome: r.Outcome, ActorID: r.ActorID,
		SubjectID: r.SubjectID, ClientAddr: r.ClientAddr, UserAgent: r.UserAgent, RequestID: r.RequestID,
		PrevHash: r.PrevHash, Hash: r.Hash}
	if err := json.Unmarshal([]byte(r.DetailsJSON), &e.Details); err != nil {
		e.Details = map[string]string{"_raw": r.DetailsJSON}
	}
	if e.Details == nil {
		e.Details = map[string]string{}
	}
	return e
}

var csvHeader = []string{"id", "seq", "at", "action", "outcome", "actor_id", "subject_id",
	"client_addr", "user_agent", "request_id", "details", "prev_hash", "hash"}

// Querier is the part of the store an export reads.
type Querier interface {
	QueryAudit(ctx context.Context, f store.AuditFilter) ([]store.AuditRecord, error)
}

// Write streams every event matching f (oldest first, in pages of 500) to w in
// the given format and returns how many it wrote. f.Ascending, f.AfterID and
// f.Limit are managed by Write.
func Write(ctx context.Context, q Querier, f store.AuditFilter, format Format, w io.Writer) (int, error) {
	var cw *csv.Writer
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if format == CSV {
		cw = csv.NewWriter(w)
		if err := cw.Write(csvHeader); err != nil {
			return 0, fmt.Errorf("auditexport: %w", err)
		}
	}
	f.Ascending, f.Limit = true, 500
	n := 0
	for {
		recs, err := q.QueryAudit(ctx, f)
		if err != nil {
			return n, fmt.Errorf("auditexport: %w", err)
		}
		for _, r := range recs {
			if cw != nil {
				err = cw.Write(csvRow(r))
			} else {
				err = enc.Encode(FromRecord(r))
			}
			if err != nil {
				return n, fmt.Errorf("auditexport: %w", err)
			}
			n++
		}
		if cw != nil {
			cw.Flush()
			if err := cw.Error(); err != nil {
				return n, fmt.Errorf("auditexport: %w", err)
			}
		}
		if len(recs) < f.Limit {
			return n, nil
		}
		f.AfterID = recs[len(recs)-1].ID
	}
}

func csvRow(r store.AuditRecord) []string {
	row := []string{strconv.FormatInt(r.ID, 10), strconv.FormatInt(r.Seq, 10),
		r.At.UTC().Format(time.RFC3339Nano), r.Action, r.Outcome, r.ActorID, r.SubjectID, r.ClientAddr,
		r.UserAgent, r.RequestID, r.DetailsJSON, r.PrevHash, r.Hash}
	for i, c := range row {
		row[i] = defuseFormula(c)
	}
	return row
}

// defuseFormula prefixes a cell that a spreadsheet would evaluate (=, +, -, @,
// tab, carriage return) with an apostrophe (OWASP CSV injection guidance).
func defuseFormula(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// ParseTime accepts RFC 3339 ("2026-11-24T09:00:00Z") or a date
// ("2026-11-24", midnight UTC).
func ParseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is not a time; use 2026-11-24 or 2026-11-24T09:00:00Z", s)
}
