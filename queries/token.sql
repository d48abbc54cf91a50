-- name: PersonalTokenInsert :one
INSERT INTO personal_tokens (id, lookup_id, secret_mac, mac_version, user_id, name, scopes, expires_at, created_at,
                             rate_limit, rate_limit_window_seconds, rate_limit_burst)
VALUES (@id, @lookup_id, @secret_mac, @mac_version, @user_id, @name, @scopes, @expires_at, @created_at,
        sqlc.narg(rate_limit), sqlc.narg(rate_limit_window_seconds), sqlc.narg(rate_limit_burst))
RETURNING *;

-- name: PersonalTokenGetByID :one
SELECT * FROM personal_tokens WHERE id = @id;

-- name: PersonalTokenGetByIDForUpdate :one
SELECT * FROM personal_tokens WHERE id = @id FOR UPDATE;

-- name: PersonalTokenListByUser :many
-- Newest first, in every state.
SELECT * FROM personal_tokens WHERE user_id = @user_id ORDER BY created_at DESC, id DESC;

-- name: PersonalTokenRevoke :one
-- Keeps the first revocation time.
UPDATE personal_tokens SET revoked_at = coalesce(revoked_at, @now::timestamptz) WHERE id = @id RETURNING *;

-- name: PersonalTokenRevokeExpiredNamed :many
-- Frees a name for reuse: revokes the user's unrevoked token of that name if it
-- has expired (the live-name index allows at most one).
UPDATE personal_tokens SET revoked_at = @now::timestamptz
WHERE user_id = @user_id AND name = @name AND revoked_at IS NULL AND expires_at <= @now::timestamptz
RETURNING *;

-- name: PersonalTokenGetByLookupID :one
-- What the verifier needs: the token and its user. A deleted user's tokens are
-- gone with it (ON DELETE CASCADE).
SELECT t.id, t.lookup_id, t.name, t.secret_mac, t.mac_version, t.scopes, t.expires_at, t.revoked_at,
       t.rate_limit, t.rate_limit_window_seconds, t.rate_limit_burst,
       t.user_id, u.username, u.email, (u.disabled_at IS NOT NULL)::boolean AS user_disabled
FROM personal_tokens t JOIN users u ON u.id = t.user_id
WHERE t.lookup_id = @lookup_id;

-- name: PersonalTokenSetRateLimit :one
-- Sets the token's rate limit (all three) or clears it (all three null).
UPDATE personal_tokens SET rate_limit = sqlc.narg(rate_limit),
       rate_limit_window_seconds = sqlc.narg(rate_limit_window_seconds), rate_limit_burst = sqlc.narg(rate_limit_burst)
WHERE id = @id RETURNING *;

-- name: PersonalTokensTouch :exec
UPDATE personal_tokens SET last_used_at = @at
WHERE id = ANY(@ids::text[]) AND (last_used_at IS NULL OR last_used_at < @at);

-- name: PersonalTokenListCarrying :many
-- Unrevoked tokens that carry any of the scopes: those an earlier version
-- allowed and the rules now refuse, reported at start.
SELECT * FROM personal_tokens WHERE scopes && @scopes::text[] AND revoked_at IS NULL ORDER BY created_at, id;

-- name: PersonalTokenRevokeAllForUser :many
-- Every unrevoked token of the user, revoked at once: the compromise response.
UPDATE personal_tokens SET revoked_at = @now::timestamptz
WHERE user_id = @user_id AND revoked_at IS NULL
RETURNING *;
