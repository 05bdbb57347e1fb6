module github.com/frontdeskhq/frontdesk/identity/enforce

go 1.24.0

require (
	github.com/go-jose/go-jose/v4 v4.1.4
	github.com/golang-jwt/jwt/v5 v5.3.1
)
