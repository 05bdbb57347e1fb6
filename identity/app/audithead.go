package app

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// LogAuditHeads logs the head of every audit chain as "audit chain head"
// (practice_id, seq, hash, and head as SEQ:HASH, the form `frontdesk audit
// verify --head` takes) and publishes it as frontdesk_audit_chain_head. Kept
// outside the database, these anchor the chains: newest rows deleted
// together with a rewritten head row no longer match a kept head.
func (a *App) LogAuditHeads(ctx context.Context) error {
	heads, err := a.Store.AuditChainHeads(ctx)
	if err != nil {
		return fmt.Errorf("app: audit chain heads: %w", err)
	}
	a.auditHead.Reset()
	for _, h := range heads {
		a.Logger.InfoContext(ctx, "audit chain head", "practice_id", h.PracticeID, "seq", h.Seq, "hash", h.Hash,
			"head", strconv.FormatInt(h.Seq, 10)+":"+h.Hash)
		a.auditHead.WithLabelValues(h.PracticeID, h.Hash).Set(float64(h.Seq))
	}
	return nil
}

// RunAuditHeadLog calls LogAuditHeads at once and then every
// audit.head_log_interval until ctx ends (never when the interval is 0);
// `serve` runs it in every replica.
func (a *App) RunAuditHeadLog(ctx context.Context) {
	every := a.Config.Audit.HeadLogInterval
	if every <= 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := a.LogAuditHeads(ctx); err != nil && ctx.Err() == nil {
			a.Logger.WarnContext(ctx, "audit chain heads not logged; will retry", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
