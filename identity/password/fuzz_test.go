package password_test

import (
	"context"
	"errors"
	"testing"

	"github.com/frontdeskhq/frontdesk/identity/password"
)

// FuzzVerifyEncoded feeds arbitrary stored hashes to Verify: malformed ones are
// refused with ErrMalformedHash before any (possibly huge) allocation, and
// nothing panics.
func FuzzVerifyEncoded(f *testing.F) {
	h := password.NewHasher(password.Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1}, 1)
	good, err := h.Hash(context.Background(), "correct horse")
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{good, "", "$argon2id$v=19$m=4194304,t=64,p=1$AAAAAAAAAAA$AAAAAAAAAAA",
		"$argon2id$v=19$m=64,t=1,p=0$c2FsdHNhbHQ$a2V5a2V5a2V5", "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5",
		"$argon2id$v=19$m=064,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, encoded string) {
		d, err := password.ParamsOf(encoded)
		if err != nil {
			if !errors.Is(err, password.ErrMalformedHash) {
				t.Fatalf("Decode(%q) = %v, not ErrMalformedHash", encoded, err)
			}
			return
		}
		// Only verify hashes cheap enough for a fuzz loop; Decode already
		// proved the parameters are within the accepted bounds.
		if d.MemoryKiB > 1024 || d.Iterations > 2 {
			return
		}
		if ok, _, err := h.Verify(context.Background(), encoded, "correct horse"); err != nil && ok {
			t.Fatalf("Verify reported ok with an error")
		}
	})
}

// FuzzPolicyCheck: Check never panics, and anything it accepts is within the
// length bounds.
func FuzzPolicyCheck(f *testing.F) {
	p, err := password.NewPolicy(15, 1024, nil)
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"correct horse battery staple", "passwordpassword", "колбаса гром синий тюльпан", "\x00\xff", "aaaaaaaaaaaaaaaaaaaa"} {
		f.Add(s, "Sunrise Therapy", "olive@example.org")
	}
	f.Fuzz(func(t *testing.T, pw, practice, email string) {
		if err := p.Check(pw, practice, email); err == nil {
			if n := len([]rune(pw)); n < 15 || n > 1024 {
				t.Fatalf("accepted a password of %d characters", n)
			}
		}
	})
}
