// Package passkeystest is a software WebAuthn authenticator for tests: it
// answers navigator.credentials.create and .get options with the JSON a
// browser would send, using an ECDSA P-256 key, "none" attestation and a
// settable sign counter and flags. It is test code: keys live in memory.
package passkeystest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"

	"github.com/fxamacker/cbor/v2"
)

// Authenticator flag bits (WebAuthn §6.1).
const (
	FlagUP byte = 0x01
	FlagUV byte = 0x04
	FlagBE byte = 0x08
	FlagBS byte = 0x10
	FlagAT byte = 0x40
)

// Authenticator holds one credential.
type Authenticator struct {
	// Origin is what the "browser" reports in clientDataJSON.
	Origin string
	// RPID is the relying-party ID whose hash goes into authenticator data.
	RPID string
	// Flags are set in every response (AT is added for registration);
	// FlagUP|FlagUV by default.
	Flags byte
	// SignCount is the counter last reported; each assertion increments it
	// first (set it lower to simulate a clone).
	SignCount uint32

	key        *ecdsa.PrivateKey
	CredID     []byte
	UserHandle []byte
}

// New returns an authenticator for rpID reporting origin.
func New(origin, rpID string) *Authenticator {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	id := make([]byte, 32)
	_, _ = rand.Read(id)
	return &Authenticator{Origin: origin, RPID: rpID, Flags: FlagUP | FlagUV, SignCount: 1, key: key, CredID: id}
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

type creationOptions struct {
	PublicKey struct {
		Challenge string `json:"challenge"`
		User      struct {
			ID string `json:"id"`
		} `json:"user"`
	} `json:"publicKey"`
}

type requestOptions struct {
	PublicKey struct {
		Challenge string `json:"challenge"`
	} `json:"publicKey"`
}

func (a *Authenticator) authData(extra byte, attested []byte) []byte {
	rp := sha256.Sum256([]byte(a.RPID))
	out := append([]byte{}, rp[:]...)
	out = append(out, a.Flags|extra)
	out = binary.BigEndian.AppendUint32(out, a.SignCount)
	return append(out, attested...)
}

func (a *Authenticator) cose() []byte {
	x, y := make([]byte, 32), make([]byte, 32)
	pub, err := a.key.PublicKey.Bytes() // uncompressed: 0x04 || X || Y
	if err != nil {
		panic(err)
	}
	copy(x, pub[1:33])
	copy(y, pub[33:65])
	b, err := cbor.Marshal(map[int]any{1: 2, 3: -7, -1: 1, -2: x, -3: y})
	if err != nil {
		panic(err)
	}
	return b
}

// Create answers creation options (the JSON the server sent, with a
// "publicKey" member) like navigator.credentials.create, returning the
// PublicKeyCredential JSON.
func (a *Authenticator) Create(optionsJSON []byte) []byte {
	var o creationOptions
	if err := json.Unmarshal(optionsJSON, &o); err != nil {
		panic(fmt.Sprintf("passkeystest: creation options: %v", err))
	}
	uh, err := base64.RawURLEncoding.DecodeString(o.PublicKey.User.ID)
	if err != nil {
		panic(fmt.Sprintf("passkeystest: user.id: %v", err))
	}
	a.UserHandle = uh
	cd, _ := json.Marshal(map[string]any{"type": "webauthn.create", "challenge": o.PublicKey.Challenge,
		"origin": a.Origin, "crossOrigin": false})
	att := make([]byte, 16) // zero AAGUID
	att = binary.BigEndian.AppendUint16(att, uint16(len(a.CredID)))
	att = append(att, a.CredID...)
	att = append(att, a.cose()...)
	obj, err := cbor.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": a.authData(FlagAT, att)})
	if err != nil {
		panic(err)
	}
	out, _ := json.Marshal(map[string]any{
		"id": b64(a.CredID), "rawId": b64(a.CredID), "type": "public-key", "authenticatorAttachment": "platform",
		"response": map[string]any{"clientDataJSON": b64(cd), "attestationObject": b64(obj),
			"transports": []string{"internal", "hybrid"}},
		"clientExtensionResults": map[string]any{},
	})
	return out
}

// Get answers request options like navigator.credentials.get with a
// discoverable credential (the user handle included), advancing the counter
// first.
func (a *Authenticator) Get(optionsJSON []byte) []byte {
	var o requestOptions
	if err := json.Unmarshal(optionsJSON, &o); err != nil {
		panic(fmt.Sprintf("passkeystest: request options: %v", err))
	}
	a.SignCount++
	cd, _ := json.Marshal(map[string]any{"type": "webauthn.get", "challenge": o.PublicKey.Challenge,
		"origin": a.Origin, "crossOrigin": false})
	ad := a.authData(0, nil)
	h := sha256.Sum256(cd)
	digest := sha256.Sum256(append(append([]byte{}, ad...), h[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, a.key, digest[:])
	if err != nil {
		panic(err)
	}
	out, _ := json.Marshal(map[string]any{
		"id": b64(a.CredID), "rawId": b64(a.CredID), "type": "public-key", "authenticatorAttachment": "platform",
		"response": map[string]any{"clientDataJSON": b64(cd), "authenticatorData": b64(ad), "signature": b64(sig),
			"userHandle": b64(a.UserHandle)},
		"clientExtensionResults": map[string]any{},
	})
	return out
}
