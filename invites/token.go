package invites

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
)

// TokenBytes is the entropy of a link token: 256 bits from a CSPRNG.
const TokenBytes = 32

// maxTokenLen bounds what HashToken accepts; a genuine token is 43 characters.
const maxTokenLen = 128

// NewToken draws a fresh link token from random (crypto/rand.Reader in
// production) and returns it with the hash under which it is stored. Only the
// person holding the link ever sees the token itself.
func NewToken(random io.Reader) (token string, hash []byte, err error) {
	var b [TokenBytes]byte
	if _, err := io.ReadFull(random, b[:]); err != nil {
		return "", nil, fmt.Errorf("invites: token: %w", err)
	}
	token = base64.RawURLEncoding.EncodeToString(b[:])
	return token, HashToken(token), nil
}

// HashToken returns the SHA-256 of token, the form in which tokens are stored and
// looked up. Overlong input is hashed as a value that matches nothing, so a
// caller needs no separate length check.
func HashToken(token string) []byte {
	if len(token) > maxTokenLen {
		token = ""
	}
	h := sha256.Sum256([]byte(token))
	return h[:]
}
