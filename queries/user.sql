-- name: UserInsert :one
INSERT INTO users (id, username, email, full_name, password_hash, disabled_at, created_at, updated_at)
VALUES (@id, @username, @email, @full_name, @password_hash, @disabled_at, @created_at, @updated_at)
RETURNING *;

-- name: UserGetByID :one
SELECT * FROM users WHERE id = @id;

-- name: UserGetByIDForUpdate :one
SELECT * FROM users WHERE id = @id FOR UPDATE;

-- name: UserGetByLogin :one
-- Matches the username or the email, whatever the case. Should one user's
-- username be another's email, the username wins.
SELECT * FROM users
WHERE lower(username) = lower(@login::text) OR lower(email) = lower(@login::text)
ORDER BY lower(username) = lower(@login::text) DESC
LIMIT 1;

-- name: UserList :many
-- Newest first; a page continues strictly after (after_created, after_id).
SELECT * FROM users
WHERE sqlc.narg(after_created)::timestamptz IS NULL
   OR (created_at, id) < (sqlc.narg(after_created)::timestamptz, sqlc.narg(after_id)::text)
ORDER BY created_at DESC, id DESC
LIMIT @max_rows;

-- name: UserUpdate :one
-- Null arguments leave their column as it is.
UPDATE users SET
    username      = coalesce(sqlc.narg(username)::text, username),
    email         = coalesce(sqlc.narg(email)::text, email),
    full_name     = coalesce(sqlc.narg(full_name)::text, full_name),
    password_hash = coalesce(sqlc.narg(password_hash)::text, password_hash),
    updated_at    = @updated_at
WHERE id = @id
RETURNING *;

-- name: UserSetDisabled :one
UPDATE users SET disabled_at = sqlc.narg(disabled_at) WHERE id = @id RETURNING *;

-- name: UserSetLoginState :execrows
UPDATE users SET failed_logins = @failed_logins, failed_since = @failed_since, locked_until = @locked_until
WHERE id = @id;

-- name: UserDelete :execrows
DELETE FROM users WHERE id = @id;

-- name: UserCount :one
SELECT count(*) FROM users;

-- name: UserGetByEmail :one
-- The user whose email this is, whatever the case (emails are unique so).
SELECT * FROM users WHERE lower(email) = lower(@email::text);
