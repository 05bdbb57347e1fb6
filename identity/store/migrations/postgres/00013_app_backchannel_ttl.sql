-- +goose Up
-- A registered app may, like a client of the configuration file, receive
-- OpenID back-channel logout tokens ('' means it does not) and have its own
-- access-token lifetime, in microseconds like every time in the store (0
-- means the provider's oidc.access_token_ttl).
ALTER TABLE practice_apps ADD COLUMN backchannel_logout_uri TEXT NOT NULL DEFAULT '';
ALTER TABLE practice_apps ADD COLUMN access_token_ttl BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE practice_apps DROP COLUMN access_token_ttl;
ALTER TABLE practice_apps DROP COLUMN backchannel_logout_uri;
