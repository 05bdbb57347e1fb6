// Package password hashes, verifies and vets the passwords of practice
// members.
//
// # Hashing
//
// Passwords are hashed with argon2id (golang.org/x/crypto/argon2) and stored
// as PHC strings:
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>
//
// with a 16-byte salt from crypto/rand, a 32-byte key and unpadded standard
// base64. [DefaultParams] is the OWASP Password Storage Cheat Sheet's
// minimum argon2id row (19 MiB of memory, 2 iterations, 1 lane);
// [Params.Validate] rejects anything below OWASP's floor of equivalent rows.
//
// argon2id is deliberately memory-hard, so a [Hasher] bounds how many hashes
// run at once: a flood of login attempts queues (honouring each request's
// context) instead of exhausting memory. Stored hashes are parsed strictly
// and their cost parameters are bounded before any memory is allocated, so a
// tampered database row cannot make the service allocate without limit.
// Derived keys are compared with crypto/subtle in constant time, and
// [Hasher.VerifyDummy] lets callers spend the same effort on unknown accounts
// as on known ones, so "no such email" and "wrong password" are not
// distinguishable by timing.
//
// # Exact comparison
//
// A password is an opaque sequence of bytes. It is never trimmed, truncated,
// case-folded or Unicode-normalised, before hashing or anywhere else: what
// the person typed is exactly what is checked. NIST SP 800-63B suggests
// normalisation, but we do not apply it, because a change in normalisation
// rules (or in a client's input method) would silently change which stored
// hashes verify, and because exactness is easy to reason about.
//
// # Policy
//
// [Policy] follows NIST SP 800-63B-4: a minimum length (15 code points by
// default) and a generous maximum (1,024 by default, which also bounds work),
// any Unicode character including spaces, no composition rules ("must
// contain a digit") and no forced rotation. Instead, new passwords are
// compared with a blocklist of common and breached passwords shipped with
// the package (plus an optional list of the operator's own), with obviously
// repetitive or sequential strings, and with words from the person's own
// context (their email address, their practice's name and slug). Each
// rejection is a [*Violation] with a stable code and a sentence the person
// can act on.
package password
