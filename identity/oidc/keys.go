package oidc

import (
	"context"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/sync/singleflight"

	"github.com/frontdeskhq/frontdesk/identity/store"
)

// MasterKeySize is the length of the master key in bytes.
const MasterKeySize = 32

// Signing algorithms. ES256 is the default (tens of microseconds a signature);
// RS256 is kept for clients that ask for it, as OpenID Connect requires.
const (
	AlgES256 = string(jose.ES256)
	AlgRS256 = string(jose.RS256)
)

// supportedAlgs are the algorithms frontdesk signs with, default first.
var supportedAlgs = []string{AlgES256, AlgRS256}

// ErrNoSigningKey means no key of the wanted algorithm is active yet.
var ErrNoSigningKey = errors.New("oidc: no active signing key")

// deriveKey derives a purpose-bound 32-byte key from the master key (HKDF-SHA256).
func deriveKey(master []byte, purpose string) ([]byte, error) {
	k, err := hkdf.Key(sha256.New, master, nil, "frontdesk "+purpose, 32)
	if err != nil {
		return nil, fmt.Errorf("oidc: derive key: %w", err)
	}
	return k, nil
}

// signingKey is a decrypted key: implements op.SigningKey and op.Key.
type signingKey struct {
	id         string
	alg        jose.SignatureAlgorithm
	private    crypto.Signer
	activeFrom time.Time
	expiresAt  time.Time
	headers    tokenHeaders // made on first use (mint.go)
}

func (k *signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return k.alg }
func (k *signingKey) Algorithm() jose.SignatureAlgorithm          { return k.alg }
func (k *signingKey) ID() string                                  { return k.id }
func (k *signingKey) Use() string                                 { return "sig" }

// Key returns the private key when signing and is replaced by publicKey for
// the JWKS (see publicKey).
func (k *signingKey) Key() any { return k.private }

// publicKey is the published form of a signing key.
type publicKey struct{ *signingKey }

func (k publicKey) Key() any { return k.private.Public() }

// KeyManager keeps the signing keys in the database, their private parts
// encrypted with AES-256-GCM under a key derived from the master key. Every
// replica reads the same rows, so all sign with the same active key: the
// newest key of an algorithm whose activation time has passed.
type KeyManager struct {
	st           *store.Store
	aead         cipher.AEAD
	random       io.Reader
	now          func() time.Time
	newID        func() string
	publishAhead time.Duration
	retireAfter  time.Duration
	cacheTTL     time.Duration

	mu       sync.Mutex
	cached   []*signingKey
	cachedAt time.Time
	// gen counts invalidations: a load begun before one neither joins a
	// later one nor fills the cache.
	gen uint64
	// loads lets the requests that find the cache expired together share
	// one read and decryption of the keys instead of each doing its own.
	loads singleflight.Group
	// loadHook, when set (tests), runs at the start of every read of the
	// keys from the database.
	loadHook func()
}

// KeyManagerOptions configure a KeyManager.
type KeyManagerOptions struct {
	// PublishAhead is how long a rotated-in key is published before it signs,
	// so every replica and every relying party's JWKS cache knows it first.
	PublishAhead time.Duration
	// RetireAfter is how long a superseded key stays published after its
	// successor starts signing: at least the longest token lifetime.
	RetireAfter time.Duration
	// CacheTTL is how long keys read from the database are reused.
	CacheTTL time.Duration
}

// NewKeyManager builds a KeyManager. master must be MasterKeySize bytes.
func NewKeyManager(st *store.Store, master []byte, random io.Reader, now func() time.Time, newID func() string, o KeyManagerOptions) (*KeyManager, error) {
	if len(master) != MasterKeySize {
		return nil, fmt.Errorf("oidc: master key must be %d bytes, got %d", MasterKeySize, len(master))
	}
	k, err := deriveKey(master, "signing-key encryption")
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(k)
	if err != nil {
		return nil, fmt.Errorf("oidc: key cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("oidc: key cipher: %w", err)
	}
	return &KeyManager{st: st, aead: aead, random: random, now: now, newID: newID,
		publishAhead: o.PublishAhead, retireAfter: o.RetireAfter, cacheTTL: o.CacheTTL}, nil
}

func (m *KeyManager) generate(alg string, activeFrom time.Time) (store.SigningKey, error) {
	var (
		priv crypto.Signer
		err  error
	)
	switch alg {
	case AlgES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), m.random)
	case AlgRS256:
		priv, err = rsa.GenerateKey(m.random, 2048)
	default:
		return store.SigningKey{}, fmt.Errorf("oidc: unsupported signing algorithm %q", alg)
	}
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("oidc: generate %s key: %w", alg, err)
	}
	id := m.newID()
	pub, err := json.Marshal(jose.JSONWebKey{Key: priv.Public(), KeyID: id, Algorithm: alg, Use: "sig"})
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("oidc: public key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("oidc: private key: %w", err)
	}
	nonce := make([]byte, m.aead.NonceSize())
	if _, err := io.ReadFull(m.random, nonce); err != nil {
		return store.SigningKey{}, fmt.Errorf("oidc: nonce: %w", err)
	}
	sealed := m.aead.Seal(nonce, nonce, der, []byte(id+"|"+alg))
	return store.SigningKey{ID: id, Alg: alg, PublicJWK: string(pub), PrivateEnc: sealed,
		CreatedAt: m.now(), ActiveFrom: activeFrom}, nil
}

func (m *KeyManager) decrypt(k store.SigningKey) (*signingKey, error) {
	ns := m.aead.NonceSize()
	if len(k.PrivateEnc) < ns {
		return nil, fmt.Errorf("oidc: signing key %s: truncated", k.ID)
	}
	der, err := m.aead.Open(nil, k.PrivateEnc[:ns], k.PrivateEnc[ns:], []byte(k.ID+"|"+k.Alg))
	if err != nil {
		return nil, fmt.Errorf("oidc: signing key %s cannot be decrypted: is the master key the one it was created with? %w", k.ID, err)
	}
	priv, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("oidc: signing key %s: %w", k.ID, err)
	}
	signer, ok := priv.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("oidc: signing key %s is not a signer", k.ID)
	}
	return &signingKey{id: k.ID, alg: jose.SignatureAlgorithm(k.Alg), private: signer,
		activeFrom: k.ActiveFrom, expiresAt: k.ExpiresAt}, nil
}

// EnsureKeys creates a key, active at once, for every supported algorithm
// that has none published (first start).
func (m *KeyManager) EnsureKeys(ctx context.Context) error {
	keys, err := m.st.PublishedSigningKeys(ctx, m.now())
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, k := range keys {
		have[k.Alg] = true
	}
	for _, alg := range supportedAlgs {
		if have[alg] {
			continue
		}
		k, err := m.generate(alg, m.now())
		if err != nil {
			return err
		}
		if err := m.st.CreateSigningKey(ctx, k); err != nil {
			return err
		}
	}
	m.invalidate()
	return nil
}

// Rotate adds a new key for alg that is published at once and signs from
// PublishAhead from now; the current keys of alg stay published until
// RetireAfter past that. It returns the new key's ID and activation time.
func (m *KeyManager) Rotate(ctx context.Context, alg string) (string, time.Time, error) {
	activeFrom := m.now().Add(m.publishAhead)
	k, err := m.generate(alg, activeFrom)
	if err != nil {
		return "", time.Time{}, err
	}
	if err := m.st.RotateSigningKey(ctx, k, activeFrom.Add(m.retireAfter)); err != nil {
		return "", time.Time{}, err
	}
	m.invalidate()
	return k.ID, activeFrom, nil
}

func (m *KeyManager) invalidate() {
	m.mu.Lock()
	m.cached, m.cachedAt = nil, time.Time{}
	m.gen++
	m.mu.Unlock()
}

// keyLoadTimeout bounds a shared load of the keys: it runs apart from the
// request that started it (that request may end while others wait on it).
const keyLoadTimeout = 10 * time.Second

// published returns the decrypted published keys, from a short-lived cache.
// When it has expired, one load reads and decrypts them for every request
// that finds it so; each waits no longer than its own context.
func (m *KeyManager) published(ctx context.Context) ([]*signingKey, error) {
	keys, gen, ok := m.fresh()
	if ok {
		return keys, nil
	}
	if err := ctx.Err(); err != nil { // an ended request starts no load
		return nil, fmt.Errorf("oidc: signing keys: %w", err)
	}
	ch := m.loads.DoChan(strconv.FormatUint(gen, 10), func() (any, error) {
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), keyLoadTimeout)
		defer cancel()
		return m.load(lctx, gen)
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.([]*signingKey), nil
	case <-ctx.Done():
		return nil, fmt.Errorf("oidc: signing keys: %w", ctx.Err())
	}
}

// fresh returns the cached keys if they are still fresh, and the cache's
// generation.
func (m *KeyManager) fresh() ([]*signingKey, uint64, bool) {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cached != nil && now.Sub(m.cachedAt) < m.cacheTTL && !now.Before(m.cachedAt) {
		return m.cached, m.gen, true
	}
	return nil, m.gen, false
}

// load reads and decrypts the published keys and caches them, unless the
// cache was invalidated since generation gen. A load that starts just after
// another filled the cache uses that instead.
func (m *KeyManager) load(ctx context.Context, gen uint64) ([]*signingKey, error) {
	if keys, g, ok := m.fresh(); ok && g == gen {
		return keys, nil
	}
	if m.loadHook != nil {
		m.loadHook()
	}
	now := m.now()
	rows, err := m.st.PublishedSigningKeys(ctx, now)
	if err != nil {
		return nil, err
	}
	keys := make([]*signingKey, 0, len(rows))
	for _, r := range rows {
		k, err := m.decrypt(r)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	m.mu.Lock()
	if m.gen == gen {
		m.cached, m.cachedAt = keys, now
	}
	m.mu.Unlock()
	return keys, nil
}

// Signing returns the key that signs with alg now.
func (m *KeyManager) Signing(ctx context.Context, alg string) (*signingKey, error) {
	keys, err := m.published(ctx)
	if err != nil {
		return nil, err
	}
	now := m.now()
	var best *signingKey
	for _, k := range keys { // ordered by activation, then ID
		if string(k.alg) == alg && !k.activeFrom.After(now) && (k.expiresAt.IsZero() || now.Before(k.expiresAt)) {
			best = k
		}
	}
	if best == nil {
		return nil, fmt.Errorf("%w for %s", ErrNoSigningKey, alg)
	}
	return best, nil
}

// Published returns the public keys to publish in the JWKS.
func (m *KeyManager) Published(ctx context.Context) ([]publicKey, error) {
	keys, err := m.published(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]publicKey, 0, len(keys))
	now := m.now()
	for _, k := range keys {
		if k.expiresAt.IsZero() || now.Before(k.expiresAt) {
			out = append(out, publicKey{k})
		}
	}
	return out, nil
}
