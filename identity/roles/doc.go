// Package roles is frontdesk's role model: the permission catalogue, role
// definitions with their constraints, the role presets that reproduce the
// access models of the practice-management products practices migrate from,
// practice-wide toggles, per-member overrides, supervision, emergency
// (break-glass) elevation, and the computation of a member's effective
// permissions.
//
// It is pure domain code: it imports neither net/http nor database/sql.
package roles
