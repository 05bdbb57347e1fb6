package app

import (
	"time"

	"github.com/frontdeskhq/frontdesk/identity/password"
)

// Bounds of the password-hashing pool. Hashes run at most
// passwords.hash_concurrency at a time; up to hashQueuePerSlot callers per
// slot wait, none longer than hashMaxWait. Beyond that a login is answered
// 503 with Retry-After at once, so a login flood cannot pile up requests
// (and their memory) without bound.
const (
	hashQueuePerSlot = 16
	hashMaxWait      = 2 * time.Second
)

// newHasher returns the service's bounded password hasher.
func newHasher(params password.Params, concurrency int) *password.Hasher {
	return password.NewBoundedHasher(params, concurrency, hashQueuePerSlot*concurrency, hashMaxWait)
}
