-- +goose Up
-- A registered app chooses the algorithm of its ID tokens
-- (id_token_signed_response_alg) and of its access tokens, like a client of
-- the configuration file. Apps registered before this migration keep ES256,
-- which signed both until now; new apps default to RS256 for ID tokens (the
-- OpenID Connect default) and ES256 for access tokens.
ALTER TABLE practice_apps ADD COLUMN id_token_signed_response_alg TEXT NOT NULL DEFAULT 'ES256';
ALTER TABLE practice_apps ADD COLUMN access_token_signing_alg TEXT NOT NULL DEFAULT 'ES256';

-- +goose Down
ALTER TABLE practice_apps DROP COLUMN access_token_signing_alg;
ALTER TABLE practice_apps DROP COLUMN id_token_signed_response_alg;
