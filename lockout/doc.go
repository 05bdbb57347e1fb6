// Package lockout is the whole failed-login lockout feature: counting,
// locking, unlocking and the notices.
//
// Counting (lockout.go) decides whether a password may be evaluated at all. It
// counts login attempts per account and failed attempts per client address, so
// that an attacker's guesses stop before they reach the password hash.
//
// The account count is taken before the hash is evaluated: Begin atomically
// increments the account's counter and refuses (ErrLocked) once the count
// passes the threshold, so with a threshold of 3 at most three passwords are
// evaluated however many guesses arrive at once, on however many replicas
// share the counter. A success resets the count (Succeeded); a failure that
// reaches the threshold tells the caller to write the durable lock (Failed).
// An attempt past the threshold while too few attempts have failed to lock is
// held out only by attempts in flight: it gets ErrBusy and is not counted.
//
// Redis can lose counts (a restart without persistence, a failover to a
// replica behind its master). RedisCounter notices a Redis run it has not
// seen, admits nothing for Settings.RecoveryGrace, and then rebuilds each
// account's counts from Settings.Durable (the audit trail's failures) the
// first time the account is counted in the new run.
//
// Two counter back ends implement Counter: RedisCounter (scale-out; one Lua
// script per increment) and SQLCounter (the embedded default, over the
// database). When the counter cannot be reached, Begin fails and the caller
// must refuse the login rather than evaluate a password uncounted.
//
// Locking and unlocking (locks.go): when a failure reaches the threshold, Locks
// writes the durable lock — the member's status, a lock record and an audit
// event in one transaction — and mails the member and everyone who may unlock
// (templates' LockoutMail). Unlock and UnlockMember lift it for the operator or
// a member holding the unlock permission, clear the counts, audit the actor
// and mail the member (UnlockMail). LockBlocks and Policy say which login
// methods a lock blocks under the practice's policy. The storage is the
// LockStore port, which identity/store implements; who may unlock is the
// Permissions port, which identity/account answers from the role model.
//
// The start limiter (start.go) throttles, per client address, the start of
// passkey ceremonies and SSO sign-ins.
//
// lockout is a leaf: it imports identity/problem (its errors are problems),
// invites (the mail sender) and templates, never identity/account,
// identity/roles or identity/store.
package lockout
