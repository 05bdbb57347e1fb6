// Package oidc is frontdesk's OpenID provider: practice apps send people here
// to log in and receive ID tokens and JWT access tokens (RFC 9068) that carry
// the practice, the member's roles and effective permissions.
//
// The protocol is github.com/zitadel/oidc/v3/pkg/op (OpenID Certified,
// pinned at v3.49.2); JOSE is go-jose v4 through it. This package supplies
// the storage (identity/store) and closes the gaps the library leaves to its
// host, each covered by a test:
//
//   - PKCE with S256 is required of every client, confidential ones too,
//     unless the operator sets require_pkce: false on a confidential
//     client, which must then send a nonce; "plain" is refused.
//   - An authorization code is consumed by its first redemption, even when
//     the PKCE check then fails; a replayed code revokes what it issued.
//   - Access tokens are JWTs with typ "at+jwt" (RFC 9068).
//   - Discovery advertises only what is offered: the code flow, refresh and
//     client credentials grants, S256, ES256 and RS256.
//   - The authorization response carries iss (RFC 9207).
//   - An auth request is bound to the browser that started it (a random
//     binding cookie whose hash is stored); only that browser, signed in to
//     the request's practice, can complete it and collect the code.
//   - Refresh tokens are stored hashed, rotate on every use and belong to a
//     family; replaying a used one revokes the whole family.
//
// # Files
//
// As in zitadel/oidc's op, each endpoint or grant has its own file:
//
//   - discovery.go: /.well-known/openid-configuration (Discovery)
//   - authorize.go: /oauth2/authorize (Authorize, VerifyAuthRequest, the
//     error redirect, the stored auth request parameters)
//   - login.go: what the login pages call to finish an auth request
//     (LoginRequest, CompleteLogin), the browser binding, and
//     /oauth2/authorize/callback, which hands out the code
//   - token.go: what every grant of /oauth2/token shares: the grant, its
//     errors and the token response
//   - token_code.go: the authorization_code grant (CodeExchange)
//   - token_refresh.go: the refresh_token grant (RefreshToken)
//   - token_client.go: the client_credentials grant
//     (ClientCredentialsExchange)
//   - server.go: the library's server with frontdesk's overrides, and the
//     grants and endpoints frontdesk does not offer
//   - userinfo.go: /oauth2/userinfo (UserInfo) and the userinfo claims
//   - introspect.go: /oauth2/introspect (Introspect, RFC 7662)
//   - revoke.go: /oauth2/revoke (Revocation, RFC 7009)
//   - logout.go: /oauth2/end_session (EndSession) and the logout
//     confirmation page's API
//   - backchannel.go: back-channel logout sent to apps when a browser
//     session ends or a member is deactivated
//   - accesstoken.go: verifying frontdesk's access tokens for userinfo,
//     introspection and revocation (AccessTokenRef: what their liveness
//     depends on)
//   - mint.go: the claims of access and ID tokens and their signing
//   - claims.go: which scope releases which claim where; the claims
//     parameter
//   - keys.go: the signing keys (KeyManager), published at /oauth2/keys
//     through storage.go
//   - storage.go: the op.Storage adapter the library still calls
//   - clients.go, apps.go: configured clients and registered apps
//   - grantcache.go: the practice cache and effective roles of grants
//   - cors.go: CORS per endpoint
//   - provider.go: Provider, its Deps and Settings, and New
package oidc
