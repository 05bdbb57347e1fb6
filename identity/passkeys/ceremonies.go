package passkeys

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/frontdeskhq/frontdesk/identity/store"
)

// errNoCeremony: the ceremony is unknown, already taken, of another kind or
// expired.
var errNoCeremony = errors.New("passkeys: no such ceremony")

// Ceremonies keeps begun ceremonies server-side, single-use and expiring,
// where every replica can finish them.
type Ceremonies interface {
	// Put stores c under the hash of its token.
	Put(ctx context.Context, tokenHash []byte, c store.PasskeyCeremony) error
	// Take removes and returns the ceremony stored under tokenHash; of
	// concurrent takes exactly one gets it. A ceremony of another kind or
	// expired at now is removed too, and reported like a missing one
	// (errNoCeremony).
	Take(ctx context.Context, tokenHash []byte, kind string, now time.Time) (store.PasskeyCeremony, error)
	// Prune removes ceremonies expired at now and reports how many.
	Prune(ctx context.Context, now time.Time) (int64, error)
}

// SQLCeremonies keeps ceremonies in the database (table passkey_ceremonies).
type SQLCeremonies struct{ st *store.Store }

// NewSQLCeremonies returns ceremonies kept in st.
func NewSQLCeremonies(st *store.Store) *SQLCeremonies { return &SQLCeremonies{st: st} }

// Put implements Ceremonies.
func (s *SQLCeremonies) Put(ctx context.Context, tokenHash []byte, c store.PasskeyCeremony) error {
	return s.st.CreatePasskeyCeremony(ctx, tokenHash, c)
}

// Take implements Ceremonies.
func (s *SQLCeremonies) Take(ctx context.Context, tokenHash []byte, kind string, now time.Time) (store.PasskeyCeremony, error) {
	c, err := s.st.ConsumePasskeyCeremony(ctx, tokenHash, kind, now)
	if errors.Is(err, store.ErrNotFound) {
		return store.PasskeyCeremony{}, errNoCeremony
	}
	return c, err
}

// Prune implements Ceremonies.
func (s *SQLCeremonies) Prune(ctx context.Context, now time.Time) (int64, error) {
	return s.st.PrunePasskeyCeremonies(ctx, now)
}

// RedisCeremonies keeps ceremonies in Redis (GETDEL makes them single-use;
// a key expires with its ceremony), for deployments whose replicas share a
// Redis. It needs Redis 6.2 or newer.
type RedisCeremonies struct {
	c      redis.UniversalClient
	prefix string
}

// NewRedisCeremonies returns ceremonies kept in c under keys starting with
// prefix.
func NewRedisCeremonies(c redis.UniversalClient, prefix string) *RedisCeremonies {
	return &RedisCeremonies{c: c, prefix: prefix}
}

type redisCeremony struct {
	Kind       string `json:"kind"`
	PracticeID string `json:"practice_id"`
	MemberID   string `json:"member_id"`
	SessionID  string `json:"session_id"`
	Data       string `json:"data"`
	CreatedAt  int64  `json:"created_at"`
	ExpiresAt  int64  `json:"expires_at"`
}

func (r *RedisCeremonies) key(tokenHash []byte) string {
	return r.prefix + hex.EncodeToString(tokenHash)
}

// Put implements Ceremonies. The key's time to live is the ceremony's
// lifetime (relative, so Redis's clock need not agree with the service's).
func (r *RedisCeremonies) Put(ctx context.Context, tokenHash []byte, c store.PasskeyCeremony) error {
	v, err := json.Marshal(redisCeremony{Kind: c.Kind, PracticeID: c.PracticeID, MemberID: c.MemberID, SessionID: c.SessionID,
		Data: c.Data, CreatedAt: c.CreatedAt.UnixMicro(), ExpiresAt: c.ExpiresAt.UnixMicro()})
	if err != nil {
		return fmt.Errorf("passkeys: ceremony: %w", err)
	}
	ttl := c.ExpiresAt.Sub(c.CreatedAt)
	if ttl < time.Second {
		ttl = time.Second
	}
	ok, err := r.c.SetNX(ctx, r.key(tokenHash), v, ttl).Result()
	if err != nil {
		return fmt.Errorf("passkeys: store ceremony in redis: %w", err)
	}
	if !ok {
		return fmt.Errorf("passkeys: store ceremony in redis: %w", store.ErrConflict)
	}
	return nil
}

// Take implements Ceremonies.
func (r *RedisCeremonies) Take(ctx context.Context, tokenHash []byte, kind string, now time.Time) (store.PasskeyCeremony, error) {
	v, err := r.c.GetDel(ctx, r.key(tokenHash)).Bytes()
	if errors.Is(err, redis.Nil) {
		return store.PasskeyCeremony{}, errNoCeremony
	}
	if err != nil {
		return store.PasskeyCeremony{}, fmt.Errorf("passkeys: take ceremony from redis: %w", err)
	}
	var rc redisCeremony
	if err := json.Unmarshal(v, &rc); err != nil {
		return store.PasskeyCeremony{}, fmt.Errorf("passkeys: ceremony from redis: %w", err)
	}
	c := store.PasskeyCeremony{Kind: rc.Kind, PracticeID: rc.PracticeID, MemberID: rc.MemberID, SessionID: rc.SessionID,
		Data: rc.Data, CreatedAt: time.UnixMicro(rc.CreatedAt).UTC(), ExpiresAt: time.UnixMicro(rc.ExpiresAt).UTC()}
	if c.Kind != kind || !now.Before(c.ExpiresAt) {
		return store.PasskeyCeremony{}, errNoCeremony
	}
	return c, nil
}

// Prune implements Ceremonies; Redis expires keys itself.
func (r *RedisCeremonies) Prune(context.Context, time.Time) (int64, error) { return 0, nil }
