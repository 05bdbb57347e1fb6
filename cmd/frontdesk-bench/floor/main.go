// Command floor is the benchmark floor of frontdesk-bench's peer comparison
// (scripts/bench-peers.sh): a bare net/http server that answers the
// client-credentials grant with the least work any provider must do — check
// the client secret against a stored SHA-256 in constant time and sign an
// ES256 at+jwt access token (RFC 9068) — and nothing else: no routing
// library, no storage, no audit, no rate limits. It is benchmark tooling, not
// part of frontdesk, and listens on loopback only.
//
//	floor --addr 127.0.0.1:18090 --client-id bench --client-secret S
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "floor: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("floor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:18090", "loopback address to listen on")
	clientID := fs.String("client-id", "bench", "the one client's ID")
	secret := fs.String("client-secret", "", "its secret (or FDBENCH_CLIENT_SECRET)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *secret == "" {
		*secret = os.Getenv("FDBENCH_CLIENT_SECRET")
	}
	if *secret == "" {
		return errors.New("--client-secret is required")
	}
	host, _, err := net.SplitHostPort(*addr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("--addr %q is not a loopback address", *addr)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	h, err := newHandler("http://"+*addr, *clientID, *secret, key, time.Now)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	slog.Info("floor listening", "addr", ln.Addr().String())
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// handler answers POST /oauth2/token (client_credentials, HTTP Basic) and
// GET /oauth2/keys.
type handler struct {
	issuer, clientID string
	secretHash       [32]byte
	key              *ecdsa.PrivateKey
	header           string // base64url of the JOSE header
	jwks             []byte
	now              func() time.Time
}

func newHandler(issuer, clientID, secret string, key *ecdsa.PrivateKey, now func() time.Time) (*handler, error) {
	const kid = "floor-1"
	hdr, err := json.Marshal(map[string]string{"alg": "ES256", "typ": "at+jwt", "kid": kid})
	if err != nil {
		return nil, err
	}
	pad := func(b *big.Int) string {
		out := make([]byte, 32)
		return base64.RawURLEncoding.EncodeToString(b.FillBytes(out))
	}
	jwks, err := json.Marshal(map[string]any{"keys": []map[string]string{{"kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig",
		"kid": kid, "x": pad(key.X), "y": pad(key.Y)}}})
	if err != nil {
		return nil, err
	}
	return &handler{issuer: issuer, clientID: clientID, secretHash: sha256.Sum256([]byte(secret)), key: key,
		header: base64.RawURLEncoding.EncodeToString(hdr), jwks: jwks, now: now}, nil
}

// accessClaims are the claims of the floor's access token, the same set
// frontdesk puts in a client-credentials token.
type accessClaims struct {
	Iss      string `json:"iss"`
	Sub      string `json:"sub"`
	Aud      string `json:"aud"`
	Exp      int64  `json:"exp"`
	Iat      int64  `json:"iat"`
	Jti      string `json:"jti"`
	ClientID string `json:"client_id"`
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/oauth2/keys" && r.Method == http.MethodGet:
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(h.jwks)
	case r.URL.Path == "/oauth2/token" && r.Method == http.MethodPost:
		h.token(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (h *handler) token(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		tokenError(w, http.StatusBadRequest, "invalid_request")
		return
	}
	id, secret, ok := r.BasicAuth()
	if ok {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	}
	sum := sha256.Sum256([]byte(secret))
	if !ok || id != h.clientID || subtle.ConstantTimeCompare(sum[:], h.secretHash[:]) != 1 {
		tokenError(w, http.StatusUnauthorized, "invalid_client")
		return
	}
	if r.PostForm.Get("grant_type") != "client_credentials" {
		tokenError(w, http.StatusBadRequest, "unsupported_grant_type")
		return
	}
	tok, err := h.sign()
	if err != nil {
		tokenError(w, http.StatusInternalServerError, "server_error")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = io.WriteString(w, `{"access_token":"`+tok+`","token_type":"Bearer","expires_in":300}`)
}

// sign makes one ES256 at+jwt for the client.
func (h *handler) sign() (string, error) {
	var jti [16]byte
	if _, err := rand.Read(jti[:]); err != nil {
		return "", err
	}
	now := h.now()
	payload, err := json.Marshal(accessClaims{Iss: h.issuer, Sub: h.clientID, Aud: h.clientID, Iat: now.Unix(),
		Exp: now.Add(5 * time.Minute).Unix(), Jti: base64.RawURLEncoding.EncodeToString(jti[:]), ClientID: h.clientID})
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString(h.header)
	b.WriteByte('.')
	b.WriteString(base64.RawURLEncoding.EncodeToString(payload))
	digest := sha256.Sum256([]byte(b.String()))
	rr, s, err := ecdsa.Sign(rand.Reader, h.key, digest[:])
	if err != nil {
		return "", err
	}
	sig := make([]byte, 64)
	rr.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	b.WriteByte('.')
	b.WriteString(base64.RawURLEncoding.EncodeToString(sig))
	return b.String(), nil
}

func tokenError(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, `{"error":"`+code+`"}`)
}
