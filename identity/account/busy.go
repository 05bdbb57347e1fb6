package account

import (
	"context"
	"errors"
	"fmt"

	"github.com/frontdeskhq/frontdesk/identity/password"
)

// dummyVerifier is implemented by hashers that say why a dummy verification
// evaluated nothing (*password.Hasher does).
type dummyVerifier interface {
	VerifyDummyErr(ctx context.Context, pw string) error
}

// verifyDummy spends a dummy verification for an account with no usable
// hash. When the hasher is at capacity it returns ErrUnavailable, exactly as
// Verify does for a real account, so an overloaded service refuses unknown
// and known accounts alike (a 503 never tells which addresses exist).
func (s *Service) verifyDummy(ctx context.Context, pw string) error {
	dv, ok := s.d.Hasher.(dummyVerifier)
	if !ok {
		s.d.Hasher.VerifyDummy(ctx, pw)
		return nil
	}
	if err := dv.VerifyDummyErr(ctx, pw); errors.Is(err, password.ErrBusy) {
		return fmt.Errorf("account: verify password: %w (%w)", ErrUnavailable, err)
	}
	return nil
}
