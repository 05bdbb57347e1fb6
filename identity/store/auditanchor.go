package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// AuditChainHeads returns the recorded head (sequence number and hash) of
// every audit chain, ordered by practice id ("" is the chain of events
// outside any practice). It reads only the heads table, so it is cheap
// enough to log periodically: a head kept outside the database (a log
// archive, a metrics store) anchors the chain against an attacker who
// deletes its newest rows and rewrites the head row to match.
func (s *Store) AuditChainHeads(ctx context.Context) ([]AuditChainHead, error) {
	rows, err := s.query(ctx, `SELECT chain_key, seq, hash FROM audit_chain_heads WHERE seq > 0 ORDER BY chain_key`)
	if err != nil {
		return nil, fmt.Errorf("store: audit chain heads: %w", err)
	}
	defer rows.Close()
	var out []AuditChainHead
	for rows.Next() {
		var h AuditChainHead
		if err := rows.Scan(&h.PracticeID, &h.Seq, &h.Hash); err != nil {
			return nil, fmt.Errorf("store: audit chain heads: %w", err)
		}
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: audit chain heads: %w", err)
	}
	return out, nil
}

// VerifyAuditChainAgainst verifies the practice's chain (VerifyAuditChain)
// and then that it still contains kept, a head recorded earlier outside the
// database: the row at kept.Seq must exist and carry kept.Hash. A chain
// whose newest rows were deleted and whose head row was rewritten to match
// verifies on its own, but not against the head kept before the deletion.
// A mismatch is an *AuditBreak.
func (s *Store) VerifyAuditChainAgainst(ctx context.Context, practiceID string, kept AuditChainHead) (AuditChainHead, error) {
	head, err := s.VerifyAuditChain(ctx, practiceID)
	if err != nil {
		return head, err
	}
	brk := func(reason string) (AuditChainHead, error) {
		return head, &AuditBreak{PracticeID: practiceID, Seq: kept.Seq, Reason: reason}
	}
	if kept.Seq > head.Seq {
		return brk(fmt.Sprintf("the chain ends at sequence %d but the kept head is at sequence %d: "+
			"%d row(s) were deleted from the end and the head row rewritten", head.Seq, kept.Seq, kept.Seq-head.Seq))
	}
	var hash sql.NullString
	err = s.queryRow(ctx, `SELECT hash FROM audit_events WHERE COALESCE(practice_id, '') = $1 AND chain_seq = $2`,
		practiceID, kept.Seq).Scan(&hash)
	if errors.Is(err, sql.ErrNoRows) {
		return brk(fmt.Sprintf("no row has the kept head's sequence %d", kept.Seq))
	}
	if err != nil {
		return head, fmt.Errorf("store: verify audit against kept head: %w", err)
	}
	if hash.String != kept.Hash {
		return brk(fmt.Sprintf("the row at sequence %d has hash %s, not the kept head's %s: the chain was rewritten "+
			"from there on", kept.Seq, hash.String, kept.Hash))
	}
	return head, nil
}
