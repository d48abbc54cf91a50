-- name: SessionInsert :exec
-- The cookie columns and idle_seconds are null for an API session.
INSERT INTO sessions (id, user_id, created_at, refreshed_at, idle_expires_at, expires_at, ip, user_agent,
                      kind, device_name, cookie_lookup_id, cookie_mac, cookie_mac_version, cookie_domain, idle_seconds, remember)
VALUES (sqlc.arg(id), sqlc.arg(user_id), sqlc.arg(created_at), sqlc.arg(refreshed_at), sqlc.arg(idle_expires_at),
        sqlc.arg(expires_at), sqlc.arg(ip), sqlc.arg(user_agent), sqlc.arg(kind), sqlc.arg(device_name),
        sqlc.narg(cookie_lookup_id), sqlc.narg(cookie_mac), sqlc.narg(cookie_mac_version), sqlc.narg(cookie_domain),
        sqlc.narg(idle_seconds),
        sqlc.arg(remember));

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

-- name: SessionRevokeAllForUserExcept :many
-- SessionRevokeAllForUser sparing the session keep (the one a password is
-- changed from; '' spares none).
WITH revoked AS (
    UPDATE sessions SET revoked_at = @revoked_at::timestamptz, revoke_reason = @reason::text
    WHERE user_id = @user_id AND revoked_at IS NULL AND id <> @keep::text
    RETURNING id
), denied AS (
    INSERT INTO session_revocations (session_id, revoked_at, expires_at)
    SELECT id, @revoked_at::timestamptz, @deny_until::timestamptz FROM revoked
)
SELECT id FROM revoked ORDER BY id;

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

-- name: SessionGetByCookie :one
-- What the verifier needs of a browser session: the session, in any state,
-- and its user. A deleted user's sessions are gone with it (ON DELETE CASCADE).
SELECT s.id, s.cookie_lookup_id::text AS cookie_lookup_id, s.cookie_mac::bytea AS cookie_mac,
       s.cookie_mac_version::smallint AS cookie_mac_version, s.cookie_domain::text AS cookie_domain, s.idle_expires_at, s.expires_at, s.revoked_at,
       s.user_id, u.username, u.email, (u.disabled_at IS NOT NULL)::boolean AS user_disabled
FROM sessions s JOIN users u ON u.id = s.user_id
WHERE s.cookie_lookup_id = @lookup_id::text AND s.kind = 'browser';

-- name: SessionsTouch :exec
-- Browser sessions used at `at`: last seen = at, idle expiry slid to
-- least(at + idle, absolute expiry). Never backwards, never a revoked session,
-- and never one that had expired by at (a late write cannot revive it).
UPDATE sessions
SET refreshed_at = @at::timestamptz,
    idle_expires_at = greatest(idle_expires_at,
        -- (@at in parentheses: sqlc misreads @at::timestamptz + x.)
        least((@at::timestamptz) + make_interval(secs => idle_seconds), expires_at))
WHERE id = ANY(@ids::text[]) AND kind = 'browser' AND revoked_at IS NULL
  AND refreshed_at < @at::timestamptz AND idle_expires_at > @at::timestamptz AND expires_at > @at::timestamptz;
