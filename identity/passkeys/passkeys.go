// Package passkeys lets practice members register passkeys (WebAuthn
// credentials) and log in with them. It is a domain service: it does not
// import net/http. Handlers pass the browser's JSON as an io.Reader; the
// WebAuthn verification itself (challenge, origin, RP ID hash, signature,
// flags, attestation) is github.com/go-webauthn/webauthn's.
//
// Ceremony state (the challenge and what it was issued for) is kept
// server-side under the hash of a random token and consumed exactly once, in
// the database or in Redis (Ceremonies); a ceremony begun on one replica can
// be finished on any other.
//
// Policy:
//   - user verification is required for registration and login;
//   - credentials must be discoverable (resident keys), so a login never
//     needs to tell the browser which credentials an email has — login with
//     an email only constrains, server-side, which member it may end as;
//   - registration needs a recent login (ReauthWindow) in the same session;
//     a password session that the practice's login policy restricts
//     (Principal.StrongLoginRequired) may register the member's first
//     passkey only;
//   - a credential ID belongs to one member only; the sign counter and
//     backup flags are stored, a counter that does not advance is refused
//     and audited, and a backup-eligibility change is refused (library);
//   - a passkey session carries amr ["hwk","user"] and honours the
//     practice's lockout policy (blocks: all refuses a locked member).
package passkeys

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/roles"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/invites"
)

// Errors a caller turns into messages for people.
var (
	// ErrCeremonyInvalid: the ceremony token is unknown, expired, already
	// used, or was begun for another practice, member or session. Start again.
	ErrCeremonyInvalid = errors.New("passkeys: this passkey request expired or was already used; start again")
	// ErrRejected: the authenticator's answer did not verify (wrong origin or
	// relying party, no user verification, bad signature, malformed data).
	ErrRejected = errors.New("passkeys: the passkey could not be verified")
	// ErrAlreadyRegistered: that credential is already registered.
	ErrAlreadyRegistered = errors.New("passkeys: this passkey is already registered")
	// ErrNotFound: the member has no passkey with that ID.
	ErrNotFound = errors.New("passkeys: no such passkey")
	// ErrTooMany: the member has as many passkeys as allowed; remove one first.
	ErrTooMany = errors.New("passkeys: too many passkeys; remove one you no longer use first")
	// ErrInvalidName: the passkey name is empty after trimming, too long, or
	// holds control characters.
	ErrInvalidName = errors.New("passkeys: name must be 1 to 64 characters without control characters")
)

// MaxBodyBytes bounds a browser's WebAuthn response; handlers should not read
// more.
const MaxBodyBytes = 64 << 10

// noMember is the ceremony member of a login begun with an email that matches
// no member: it can never be finished.
const noMember = "-"

// Config is the relying party's configuration.
type Config struct {
	// RPID is the relying-party ID (a registrable domain; the host of the
	// public URL by default).
	RPID string
	// RPName is shown by authenticators.
	RPName string
	// Origins are the exact origins the browser may report (scheme://host[:port]).
	Origins []string
	// CeremonyTTL is how long a begun ceremony may be finished; 0 means 5 minutes.
	CeremonyTTL time.Duration
	// ReauthWindow is how recent the session's login must be to register a
	// passkey; 0 means 5 minutes.
	ReauthWindow time.Duration
	// MaxPerMember bounds a member's passkeys; 0 means 20.
	MaxPerMember int
}

// Deps are the service's collaborators.
type Deps struct {
	Store    *store.Store
	Accounts *account.Service
	Logger   *slog.Logger
	Now      func() time.Time
	NewID    func() string
	Random   io.Reader // crypto/rand.Reader in production
	// Permissions answers whether an administrator holds members.manage,
	// which RevokeMember requires; nil lets only the operator revoke.
	Permissions account.Permissions
	// Ceremonies keeps begun ceremonies; nil means the database
	// (NewSQLCeremonies(Store)). RedisCeremonies serves replicas sharing a
	// Redis.
	Ceremonies Ceremonies
}

// Service registers passkeys and logs members in with them. It is safe for
// concurrent use.
type Service struct {
	d   Deps
	cfg Config
	wa  *webauthn.WebAuthn
	// nextPrune is when (Unix microseconds) expired ceremonies are next
	// deleted; begun ceremonies prune at most once a minute.
	nextPrune atomic.Int64
}

// New returns a Service; the configuration is validated by the library.
func New(d Deps, cfg Config) (*Service, error) {
	if cfg.CeremonyTTL <= 0 {
		cfg.CeremonyTTL = 5 * time.Minute
	}
	if cfg.ReauthWindow <= 0 {
		cfg.ReauthWindow = 5 * time.Minute
	}
	if cfg.MaxPerMember <= 0 {
		cfg.MaxPerMember = 20
	}
	if d.Ceremonies == nil {
		d.Ceremonies = NewSQLCeremonies(d.Store)
	}
	wa, err := webauthn.New(&webauthn.Config{
		RPID:                  cfg.RPID,
		RPDisplayName:         cfg.RPName,
		RPOrigins:             cfg.Origins,
		AttestationPreference: protocol.PreferNoAttestation,
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			ResidentKey:        protocol.ResidentKeyRequirementRequired,
			RequireResidentKey: protocol.ResidentKeyRequired(),
			UserVerification:   protocol.VerificationRequired,
		},
		Timeouts: webauthn.TimeoutsConfig{
			Login:        webauthn.TimeoutConfig{Timeout: cfg.CeremonyTTL, TimeoutUVD: cfg.CeremonyTTL},
			Registration: webauthn.TimeoutConfig{Timeout: cfg.CeremonyTTL, TimeoutUVD: cfg.CeremonyTTL},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("passkeys: %w", err)
	}
	return &Service{d: d, cfg: cfg, wa: wa}, nil
}

// user adapts a member and their credentials to the library. The user handle
// is the member ID (random, not personal data).
type user struct {
	m     store.Member
	creds []webauthn.Credential
}

func (u *user) WebAuthnID() []byte { return []byte(u.m.ID) }
func (u *user) WebAuthnName() string {
	return u.m.Email
}
func (u *user) WebAuthnDisplayName() string {
	if u.m.DisplayName != "" {
		return u.m.DisplayName
	}
	return u.m.Email
}
func (u *user) WebAuthnCredentials() []webauthn.Credential { return u.creds }

func toLibrary(pk store.Passkey) webauthn.Credential {
	tr := make([]protocol.AuthenticatorTransport, 0, len(pk.Transports))
	for _, t := range pk.Transports {
		tr = append(tr, protocol.AuthenticatorTransport(t))
	}
	return webauthn.Credential{
		ID: pk.CredentialID, PublicKey: pk.PublicKey, AttestationType: pk.AttestationType,
		AttestationFormat: pk.AttestationFormat, Transport: tr,
		Flags: webauthn.CredentialFlags{UserPresent: true, UserVerified: pk.UserVerified,
			BackupEligible: pk.BackupEligible, BackupState: pk.BackupState},
		Authenticator: webauthn.Authenticator{AAGUID: pk.AAGUID, SignCount: pk.SignCount},
	}
}

func (s *Service) userOf(ctx context.Context, m store.Member) (*user, []store.Passkey, error) {
	pks, err := s.d.Store.MemberPasskeys(ctx, m.PracticeID, m.ID)
	if err != nil {
		return nil, nil, fmt.Errorf("passkeys: %w", err)
	}
	u := &user{m: m}
	for _, pk := range pks {
		u.creds = append(u.creds, toLibrary(pk))
	}
	return u, pks, nil
}

func (s *Service) saveCeremony(ctx context.Context, c store.PasskeyCeremony, sd *webauthn.SessionData) (string, error) {
	data, err := json.Marshal(sd)
	if err != nil {
		return "", fmt.Errorf("passkeys: ceremony: %w", err)
	}
	token, hash, err := invites.NewToken(s.d.Random)
	if err != nil {
		return "", fmt.Errorf("passkeys: ceremony token: %w", err)
	}
	now := s.d.Now()
	if next := s.nextPrune.Load(); now.UnixMicro() >= next && s.nextPrune.CompareAndSwap(next, now.Add(time.Minute).UnixMicro()) {
		if _, err := s.d.Ceremonies.Prune(ctx, now); err != nil {
			s.d.Logger.WarnContext(ctx, "pruning expired passkey ceremonies failed", "err", err)
		}
	}
	c.Data, c.CreatedAt, c.ExpiresAt = string(data), now, now.Add(s.cfg.CeremonyTTL)
	if err := s.d.Ceremonies.Put(ctx, hash, c); err != nil {
		return "", fmt.Errorf("passkeys: %w", err)
	}
	return token, nil
}

func (s *Service) consumeCeremony(ctx context.Context, token, kind string) (store.PasskeyCeremony, webauthn.SessionData, error) {
	if token == "" || len(token) > 128 {
		return store.PasskeyCeremony{}, webauthn.SessionData{}, ErrCeremonyInvalid
	}
	c, err := s.d.Ceremonies.Take(ctx, invites.HashToken(token), kind, s.d.Now())
	if errors.Is(err, errNoCeremony) {
		return store.PasskeyCeremony{}, webauthn.SessionData{}, ErrCeremonyInvalid
	}
	if err != nil {
		return store.PasskeyCeremony{}, webauthn.SessionData{}, fmt.Errorf("passkeys: %w", err)
	}
	var sd webauthn.SessionData
	if err := json.Unmarshal([]byte(c.Data), &sd); err != nil {
		return store.PasskeyCeremony{}, webauthn.SessionData{}, fmt.Errorf("passkeys: ceremony data: %w", err)
	}
	return c, sd, nil
}

// NeedsReauth reports whether pr's login is too old to register a passkey.
func (s *Service) NeedsReauth(pr account.Principal) bool {
	return s.d.Now().Sub(pr.Session.AuthTime) > s.cfg.ReauthWindow
}

// BeginRegistration starts registering a passkey for the signed-in member. It
// returns the options for navigator.credentials.create (JSON-marshalable) and
// the ceremony token to finish with. A login older than ReauthWindow gets
// account.ErrReauthRequired.
func (s *Service) BeginRegistration(ctx context.Context, pr account.Principal) (*protocol.CredentialCreation, string, error) {
	if pr.MustChangePassword {
		return nil, "", account.ErrNoSession
	}
	if s.NeedsReauth(pr) {
		return nil, "", account.ErrReauthRequired
	}
	u, pks, err := s.userOf(ctx, pr.Member)
	if err != nil {
		return nil, "", err
	}
	if pr.StrongLoginRequired && len(pks) > 0 {
		// A password session of a member whose role needs a passkey may add
		// a first passkey only: one who has a passkey logs in with it.
		return nil, "", account.ErrStrongLoginRequired
	}
	if len(pks) >= s.cfg.MaxPerMember {
		return nil, "", ErrTooMany
	}
	creation, sd, err := s.wa.BeginRegistration(u, webauthn.WithExclusions(webauthn.Credentials(u.creds).CredentialDescriptors()))
	if err != nil {
		return nil, "", fmt.Errorf("passkeys: begin registration: %w", err)
	}
	token, err := s.saveCeremony(ctx, store.PasskeyCeremony{Kind: store.CeremonyRegister, PracticeID: pr.Practice.ID,
		MemberID: pr.Member.ID, SessionID: pr.Session.ID}, sd)
	if err != nil {
		return nil, "", err
	}
	return creation, token, nil
}

// ValidName trims a passkey name and checks it (1 to 64 characters, no
// control characters).
func ValidName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" || !utf8.ValidString(name) || utf8.RuneCountInString(name) > 64 || strings.ContainsFunc(name, unicode.IsControl) {
		return "", ErrInvalidName
	}
	return name, nil
}

// FinishRegistration verifies the browser's answer (body: the
// PublicKeyCredential JSON) to the ceremony token began and stores the
// passkey under name ("" names it after the date). The ceremony must have
// been begun in this same session; it is consumed whatever the outcome.
func (s *Service) FinishRegistration(ctx context.Context, pr account.Principal, token, name string, body io.Reader, meta account.Meta) (store.Passkey, error) {
	now := s.d.Now()
	if strings.TrimSpace(name) == "" {
		name = "Passkey added " + now.Format("2 Jan 2006")
	}
	name, err := ValidName(name)
	if err != nil {
		return store.Passkey{}, err
	}
	c, sd, err := s.consumeCeremony(ctx, token, store.CeremonyRegister)
	if err != nil {
		return store.Passkey{}, err
	}
	if c.PracticeID != pr.Practice.ID || c.MemberID != pr.Member.ID || c.SessionID != pr.Session.ID || pr.MustChangePassword {
		return store.Passkey{}, ErrCeremonyInvalid
	}
	fail := func(reason string, err error) (store.Passkey, error) {
		s.d.Accounts.AuditBestEffort(ctx, store.AuditEvent{PracticeID: pr.Practice.ID, Action: "passkey.register",
			Outcome: "failure", ActorID: pr.Member.ID, SubjectID: pr.Member.ID, Details: map[string]string{"reason": reason}}, meta)
		return store.Passkey{}, err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBody(io.LimitReader(body, MaxBodyBytes))
	if err != nil {
		return fail("malformed", ErrRejected)
	}
	u, pks, err := s.userOf(ctx, pr.Member)
	if err != nil {
		return store.Passkey{}, err
	}
	if pr.StrongLoginRequired && len(pks) > 0 {
		return fail("strong_login_required", account.ErrStrongLoginRequired)
	}
	if len(pks) >= s.cfg.MaxPerMember {
		return store.Passkey{}, ErrTooMany
	}
	cred, err := s.wa.CreateCredential(u, sd, parsed)
	if err != nil {
		s.d.Logger.InfoContext(ctx, "passkey registration refused", "member", pr.Member.ID, "err", err)
		return fail("verification_failed", ErrRejected)
	}
	if !cred.Flags.UserVerified {
		return fail("no_user_verification", ErrRejected)
	}
	transports := make([]string, 0, len(cred.Transport))
	for _, t := range cred.Transport {
		if v := string(t); len(v) <= 32 && len(transports) < 8 {
			transports = append(transports, v)
		}
	}
	pk := store.Passkey{ID: s.d.NewID(), CredentialID: cred.ID, PracticeID: pr.Practice.ID, MemberID: pr.Member.ID,
		PublicKey: cred.PublicKey, AttestationType: cred.AttestationType, AttestationFormat: cred.AttestationFormat,
		AAGUID: cred.Authenticator.AAGUID, Transports: transports, SignCount: cred.Authenticator.SignCount,
		UserVerified: cred.Flags.UserVerified, BackupEligible: cred.Flags.BackupEligible, BackupState: cred.Flags.BackupState,
		Name: name, CreatedAt: now}
	err = s.d.Store.InTx(ctx, func(tx *store.Store) error {
		if err := tx.CreatePasskey(ctx, pk); err != nil {
			return err
		}
		return s.d.Accounts.Audit(ctx, tx, store.AuditEvent{PracticeID: pr.Practice.ID, Action: "passkey.register",
			Outcome: "success", ActorID: pr.Member.ID, SubjectID: pr.Member.ID,
			Details: map[string]string{"passkey": pk.ID, "name": pk.Name, "backup_eligible": fmt.Sprint(pk.BackupEligible)}}, meta)
	})
	if errors.Is(err, store.ErrConflict) {
		return fail("already_registered", ErrAlreadyRegistered)
	}
	if err != nil {
		return store.Passkey{}, fmt.Errorf("passkeys: register: %w", err)
	}
	return pk, nil
}

// BeginLogin starts a passkey login on the practice's login page. With an
// email, the login can only end as the member with that email; the options
// sent to the browser are the same either way (no allowCredentials), so
// they reveal nothing about which emails have accounts or passkeys.
func (s *Service) BeginLogin(ctx context.Context, practiceSlug, email string) (*protocol.CredentialAssertion, string, error) {
	p, err := s.d.Accounts.Practice(ctx, practiceSlug)
	if err != nil {
		return nil, "", err
	}
	memberID := ""
	if strings.TrimSpace(email) != "" {
		memberID = noMember
		if e, err := account.ParseEmail(email); err == nil {
			m, err := s.d.Store.MemberByEmail(ctx, p.ID, e)
			switch {
			case err == nil:
				memberID = m.ID
			case !errors.Is(err, store.ErrNotFound):
				return nil, "", fmt.Errorf("passkeys: begin login: %w", err)
			}
		}
	}
	assertion, sd, err := s.wa.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return nil, "", fmt.Errorf("passkeys: begin login: %w", err)
	}
	token, err := s.saveCeremony(ctx, store.PasskeyCeremony{Kind: store.CeremonyLogin, PracticeID: p.ID, MemberID: memberID}, sd)
	if err != nil {
		return nil, "", err
	}
	return assertion, token, nil
}

// FinishLogin verifies the browser's assertion (body: the PublicKeyCredential
// JSON) for the ceremony token and starts a session with amr hwk (+user).
// Every refusal is account.ErrInvalidCredentials (audited with its reason)
// except an unusable ceremony (ErrCeremonyInvalid).
func (s *Service) FinishLogin(ctx context.Context, practiceSlug, token string, body io.Reader, meta account.Meta) (account.Principal, string, error) {
	p, err := s.d.Accounts.Practice(ctx, practiceSlug)
	if err != nil {
		return account.Principal{}, "", err
	}
	c, sd, err := s.consumeCeremony(ctx, token, store.CeremonyLogin)
	if err != nil {
		return account.Principal{}, "", err
	}
	if c.PracticeID != p.ID {
		return account.Principal{}, "", ErrCeremonyInvalid
	}
	fail := func(reason string, pk *store.Passkey) (account.Principal, string, error) {
		d := map[string]string{"reason": reason, "method": account.MethodHardwareKey}
		subject := ""
		if pk != nil {
			d["passkey"] = pk.ID
			if pk.PracticeID == p.ID {
				subject = pk.MemberID
			}
		}
		s.d.Accounts.AuditBestEffort(ctx, store.AuditEvent{PracticeID: p.ID, Action: "login", Outcome: "failure",
			SubjectID: subject, Details: d}, meta)
		return account.Principal{}, "", account.ErrInvalidCredentials
	}
	parsed, err := protocol.ParseCredentialRequestResponseBody(io.LimitReader(body, MaxBodyBytes))
	if err != nil {
		return fail("malformed", nil)
	}
	pk, err := s.d.Store.PasskeyByCredentialID(ctx, parsed.RawID)
	if errors.Is(err, store.ErrNotFound) {
		return fail("unknown_credential", nil)
	}
	if err != nil {
		return account.Principal{}, "", fmt.Errorf("passkeys: login: %w", err)
	}
	switch {
	case pk.PracticeID != p.ID:
		return fail("other_practice", &pk)
	case c.MemberID != "" && c.MemberID != pk.MemberID:
		return fail("other_member", &pk)
	}
	m, err := s.d.Store.MemberByID(ctx, p.ID, pk.MemberID)
	if err != nil {
		return account.Principal{}, "", fmt.Errorf("passkeys: login member: %w", err)
	}
	u := &user{m: m, creds: []webauthn.Credential{toLibrary(pk)}}
	handler := func(rawID, userHandle []byte) (webauthn.User, error) {
		if !bytes.Equal(rawID, pk.CredentialID) || string(userHandle) != pk.MemberID {
			return nil, errors.New("user handle does not match the credential's member")
		}
		return u, nil
	}
	_, cred, err := s.wa.ValidatePasskeyLogin(handler, sd, parsed)
	if err != nil {
		s.d.Logger.InfoContext(ctx, "passkey login refused", "passkey", pk.ID, "err", err)
		return fail("verification_failed", &pk)
	}
	flags := parsed.Response.AuthenticatorData.Flags
	if !flags.HasUserVerified() {
		return fail("no_user_verification", &pk)
	}
	if cred.Authenticator.CloneWarning {
		// The counter did not advance: a cloned authenticator or a replay.
		s.d.Logger.WarnContext(ctx, "passkey sign counter did not advance; login refused", "passkey", pk.ID,
			"stored", pk.SignCount, "presented", parsed.Response.AuthenticatorData.Counter)
		return fail("counter_regression", &pk)
	}
	if err := s.d.Store.RecordPasskeyUse(ctx, pk.ID, pk.SignCount, cred.Authenticator.SignCount,
		pk.UserVerified || flags.HasUserVerified(), flags.HasBackupState(), s.d.Now()); errors.Is(err, store.ErrConflict) {
		return fail("counter_regression", &pk)
	} else if err != nil {
		return account.Principal{}, "", fmt.Errorf("passkeys: login: %w", err)
	}
	return s.d.Accounts.StartPasskeySession(ctx, p, pk.MemberID, flags.HasUserVerified(), map[string]string{"passkey": pk.ID}, meta)
}

// List returns the signed-in member's passkeys, oldest first.
func (s *Service) List(ctx context.Context, pr account.Principal) ([]store.Passkey, error) {
	pks, err := s.d.Store.MemberPasskeys(ctx, pr.Practice.ID, pr.Member.ID)
	if err != nil {
		return nil, fmt.Errorf("passkeys: list: %w", err)
	}
	return pks, nil
}

// Rename renames one of the signed-in member's passkeys.
func (s *Service) Rename(ctx context.Context, pr account.Principal, id, name string, meta account.Meta) error {
	name, err := ValidName(name)
	if err != nil {
		return err
	}
	err = s.d.Store.InTx(ctx, func(tx *store.Store) error {
		if err := tx.RenamePasskey(ctx, pr.Practice.ID, pr.Member.ID, id, name); err != nil {
			return err
		}
		return s.d.Accounts.Audit(ctx, tx, store.AuditEvent{PracticeID: pr.Practice.ID, Action: "passkey.rename",
			Outcome: "success", ActorID: pr.Member.ID, SubjectID: pr.Member.ID,
			Details: map[string]string{"passkey": id, "name": name}}, meta)
	})
	if errors.Is(err, store.ErrNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("passkeys: rename: %w", err)
	}
	return nil
}

// Remove deletes one of the signed-in member's passkeys. Removing needs a
// recent login, like registering (account.ErrReauthRequired).
func (s *Service) Remove(ctx context.Context, pr account.Principal, id string, meta account.Meta) error {
	if s.NeedsReauth(pr) {
		return account.ErrReauthRequired
	}
	err := s.d.Store.InTx(ctx, func(tx *store.Store) error {
		pk, err := tx.PasskeyByID(ctx, pr.Practice.ID, pr.Member.ID, id)
		if err != nil {
			return err
		}
		if err := tx.DeletePasskey(ctx, pr.Practice.ID, pr.Member.ID, id); err != nil {
			return err
		}
		return s.d.Accounts.Audit(ctx, tx, store.AuditEvent{PracticeID: pr.Practice.ID, Action: "passkey.remove",
			Outcome: "success", ActorID: pr.Member.ID, SubjectID: pr.Member.ID,
			Details: map[string]string{"passkey": id, "name": pk.Name}}, meta)
	})
	if errors.Is(err, store.ErrNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("passkeys: remove: %w", err)
	}
	return nil
}

// RevokeMember removes every passkey of a member of the practice and ends
// the member's sessions (revocation is incident response: a session started
// with a lost passkey must not outlive it). The actor is the operator or a
// member holding roles.PermManageMembers; others get account.ErrForbidden. It reports how
// many passkeys were removed.
func (s *Service) RevokeMember(ctx context.Context, practiceSlug, memberID string, actor account.Actor, meta account.Meta) (int64, error) {
	p, err := s.d.Accounts.Practice(ctx, practiceSlug)
	if err != nil {
		return 0, err
	}
	actorID := account.OperatorActorID
	if !actor.Operator {
		actorID = actor.MemberID
		allowed := false
		if s.d.Permissions != nil {
			if a, err := s.d.Store.MemberByID(ctx, p.ID, actor.MemberID); err == nil && a.Status == store.StatusActive {
				allowed, err = s.d.Permissions.Allowed(ctx, p.ID, actor.MemberID, roles.PermManageMembers)
				if err != nil {
					return 0, fmt.Errorf("passkeys: revoke: %w", err)
				}
			}
		}
		if !allowed {
			return 0, account.ErrForbidden
		}
	}
	m, err := s.d.Store.MemberByID(ctx, p.ID, memberID)
	if errors.Is(err, store.ErrNotFound) {
		return 0, account.ErrMemberNotFound
	} else if err != nil {
		return 0, fmt.Errorf("passkeys: revoke: %w", err)
	}
	if err := s.d.Accounts.MayStaff(ctx, p, actor, m, "revoke the passkeys of"); err != nil {
		return 0, err
	}
	var n int64
	err = s.d.Store.InTx(ctx, func(tx *store.Store) error {
		var err error
		if n, err = tx.DeleteMemberPasskeys(ctx, p.ID, memberID); err != nil {
			return err
		}
		ended, err := tx.EndMemberSessions(ctx, memberID, "", s.d.Now())
		if err != nil {
			return err
		}
		return s.d.Accounts.Audit(ctx, tx, store.AuditEvent{PracticeID: p.ID, Action: "passkey.revoke_all",
			Outcome: "success", ActorID: actorID, SubjectID: memberID,
			Details: map[string]string{"removed": fmt.Sprint(n), "sessions_ended": fmt.Sprint(ended)}}, meta)
	})
	if err != nil {
		return 0, fmt.Errorf("passkeys: revoke: %w", err)
	}
	return n, nil
}

// PruneCeremonies deletes expired ceremonies (finished ones are deleted when
// finished). Beginning a ceremony also prunes, at most once a minute.
func (s *Service) PruneCeremonies(ctx context.Context) (int64, error) {
	return s.d.Ceremonies.Prune(ctx, s.d.Now())
}
