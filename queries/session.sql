-- name: SessionInsert :exec
INSERT INTO sessions (id, user_id, created_at, refreshed_at, idle_expires_at, expires_at, ip, user_agent)
VALUES (@id, @user_id, @created_at, @refreshed_at, @idle_expires_at, @expires_at, @ip, @user_agent);

-- name: SessionGetByID :one
SELECT * FROM sessions WHERE id = @id;

-- name: SessionGetByIDForUpdate :one
SELECT * FROM sessions WHERE id = @id FOR UPDATE;

-- name: SessionListLive :many
SELECT * FROM sessions
WHERE user_id = @user_id AND revoked_at IS NULL AND expires_at > @now::timestamptz AND idle_expires_at > @now::timestamptz
ORDER BY created_at, id;

-- name: SessionTouch :execrows
UPDATE sessions SET refreshed_at = @refreshed_at, idle_expires_at = @idle_expires_at WHERE id = @id;

-- name: SessionRevoke :one
-- Ends the session unless it has ended already and, only then, denies its
-- access tokens until deny_until: one statement, so neither happens alone.
-- found is read from the snapshot before the update.
WITH revoked AS (
    UPDATE sessions SET revoked_at = @revoked_at::timestamptz, revoke_reason = @reason::text
    WHERE id = @id AND revoked_at IS NULL
    RETURNING id
), denied AS (
    INSERT INTO session_revocations (session_id, revoked_at, expires_at)
    SELECT id, @revoked_at::timestamptz, @deny_until::timestamptz FROM revoked
)
SELECT EXISTS (SELECT 1 FROM sessions s WHERE s.id = @id::text) AS found,
       EXISTS (SELECT 1 FROM revoked) AS changed;

-- name: SessionRevokeAllForUser :many
-- SessionRevoke for every session of the user not revoked yet.
WITH revoked AS (
    UPDATE sessions SET revoked_at = @revoked_at::timestamptz, revoke_reason = @reason::text
    WHERE user_id = @user_id AND revoked_at IS NULL
    RETURNING id
), denied AS (
    INSERT INTO session_revocations (session_id, revoked_at, expires_at)
    SELECT id, @revoked_at::timestamptz, @deny_until::timestamptz FROM revoked
)
SELECT id FROM revoked ORDER BY id;

-- name: SessionRevocationsSince :many
SELECT seq, session_id, expires_at FROM session_revocations
WHERE seq > @after_seq AND expires_at > @now
ORDER BY seq;

-- name: SessionRevocationsPrune :execrows
DELETE FROM session_revocations WHERE expires_at < @before;

-- name: RefreshTokenInsert :exec
INSERT INTO refresh_tokens (lookup_id, session_id, secret_mac, mac_version, created_at, used_at)
VALUES (@lookup_id, @session_id, @secret_mac, @mac_version, @created_at, @used_at);

-- name: RefreshTokenGetByLookupIDForUpdate :one
SELECT * FROM refresh_tokens WHERE lookup_id = @lookup_id FOR UPDATE;

-- name: RefreshTokenMarkUsed :execrows
-- Keeps the first use: the reuse grace counts from it.
UPDATE refresh_tokens SET used_at = coalesce(used_at, @used_at::timestamptz) WHERE lookup_id = @lookup_id;
