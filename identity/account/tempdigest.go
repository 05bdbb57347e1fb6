package account

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"strings"
)

// temporaryDigestPrefix marks a temporary password stored as its SHA-256
// digest. A temporary password is drawn from crypto/rand with ~116 bits, so,
// like a link token, it needs no slow hash: a digest cannot be inverted, and
// comparing one costs next to nothing. That keeps a wrong-password login at
// one slow hash evaluation whether or not the member holds an unused
// temporary password (the time of the answer does not tell).
const temporaryDigestPrefix = "sha256:"

// TemporaryDigest is the stored form of a new temporary password; the
// onboarding service stores it when it issues one, login matches against it.
func TemporaryDigest(pw string) string {
	d := sha256.Sum256([]byte(pw))
	return temporaryDigestPrefix + hex.EncodeToString(d[:])
}

// matchTemporary reports whether pw is the temporary password stored as
// stored. A digest is compared in constant time; an older argon2id hash
// (issued before digests, valid at most a day) is still verified with the
// hasher.
func (s *Service) matchTemporary(ctx context.Context, stored, pw string) (bool, error) {
	if hexDigest, ok := strings.CutPrefix(stored, temporaryDigestPrefix); ok {
		want, err := hex.DecodeString(hexDigest)
		if err != nil || len(want) != sha256.Size {
			return false, nil // a malformed record matches nothing
		}
		got := sha256.Sum256([]byte(pw))
		return subtle.ConstantTimeCompare(got[:], want) == 1, nil
	}
	ok, _, err := s.d.Hasher.Verify(ctx, stored, pw)
	return ok, err
}
