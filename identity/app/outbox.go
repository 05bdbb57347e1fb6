package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/frontdeskhq/frontdesk/identity/config"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/invites"
)

// newOutboxWorker builds this replica's mail outbox worker. Its ID (host,
// process and a random suffix) appears on the rows it claims.
func newOutboxWorker(cfg *config.Config, st *store.Store, sender invites.Sender, logger *slog.Logger,
	reg prometheus.Registerer) (*invites.Worker, error) {
	host, _ := os.Hostname()
	var b [4]byte
	_, _ = rand.Read(b[:])
	id := fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b[:]))
	w, err := invites.NewWorker(st, sender, invites.WorkerConfig{ID: id, Poll: cfg.Mail.PollInterval,
		BaseBackoff: cfg.Mail.RetryBackoff, MaxBackoff: cfg.Mail.RetryBackoffMax, MaxAttempts: cfg.Mail.RetryLimit},
		logger, reg, time.Now)
	if err != nil {
		return nil, fmt.Errorf("app: mail outbox: %w", err)
	}
	return w, nil
}

// appURLs maps each configured client to where an invitee lands after
// accepting an invitation to it: the origin of its first redirect URI.
func appURLs(clients []config.Client) map[string]string {
	out := map[string]string{}
	for _, c := range clients {
		if len(c.RedirectURIs) == 0 {
			continue
		}
		u, err := url.Parse(c.RedirectURIs[0])
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			continue
		}
		out[c.ID] = u.Scheme + "://" + u.Host + "/"
	}
	return out
}

// RunOutbox delivers queued mail until ctx ends; `serve` runs it in every
// replica.
func (a *App) RunOutbox(ctx context.Context) {
	if a.Outbox != nil {
		a.Outbox.Run(ctx)
	}
}
