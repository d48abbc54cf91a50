-- name: KeyInsert :one
INSERT INTO api_keys (id, lookup_id, secret_mac, mac_version, subject, name, scopes, metadata,
                      expires_at, rotated_from, created_at, created_by,
                      rate_limit, rate_limit_window_seconds, rate_limit_burst)
VALUES (@id, @lookup_id, @secret_mac, @mac_version, @subject, @name, @scopes, @metadata,
        @expires_at, @rotated_from, @created_at, @created_by,
        sqlc.narg(rate_limit), sqlc.narg(rate_limit_window_seconds), sqlc.narg(rate_limit_burst))
RETURNING *;

-- name: KeyGetByID :one
SELECT * FROM api_keys WHERE id = @id;

-- name: KeyGetByIDForUpdate :one
SELECT * FROM api_keys WHERE id = @id FOR UPDATE;

-- name: KeyGetByLookupID :one
SELECT id, lookup_id, subject, name, scopes, secret_mac, mac_version, expires_at, disabled_at, revoked_at,
       rate_limit, rate_limit_window_seconds, rate_limit_burst
FROM api_keys WHERE lookup_id = @lookup_id;

-- name: KeyList :many
-- Newest first; a page continues strictly after (after_created, after_id).
SELECT * FROM api_keys
WHERE (sqlc.narg(state)::text IS NULL OR sqlc.narg(state)::text =
        CASE WHEN revoked_at IS NOT NULL THEN 'revoked'
             WHEN disabled_at IS NOT NULL THEN 'disabled'
             WHEN expires_at IS NOT NULL AND expires_at <= @now::timestamptz THEN 'expired'
             ELSE 'active' END)
  AND (sqlc.narg(after_created)::timestamptz IS NULL
       OR (created_at, id) < (sqlc.narg(after_created)::timestamptz, sqlc.narg(after_id)::text))
ORDER BY created_at DESC, id DESC
LIMIT @max_rows;

-- name: KeyRevoke :one
UPDATE api_keys SET revoked_at = coalesce(revoked_at, @now::timestamptz) WHERE id = @id RETURNING *;

-- name: KeySetDisabled :one
UPDATE api_keys SET disabled_at = sqlc.narg(disabled_at) WHERE id = @id RETURNING *;

-- name: KeySetExpiry :one
UPDATE api_keys SET expires_at = @expires_at WHERE id = @id RETURNING *;

-- name: KeySetRateLimit :one
-- Sets the key's rate limit (all three) or clears it (all three null).
UPDATE api_keys SET rate_limit = sqlc.narg(rate_limit), rate_limit_window_seconds = sqlc.narg(rate_limit_window_seconds),
                    rate_limit_burst = sqlc.narg(rate_limit_burst)
WHERE id = @id RETURNING *;

-- name: KeysTouch :exec
UPDATE api_keys SET last_used_at = @at
WHERE id = ANY(@ids::text[]) AND (last_used_at IS NULL OR last_used_at < @at);

-- name: KeyCount :one
SELECT count(*) FROM api_keys;
