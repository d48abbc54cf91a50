-- name: IdentityInsert :one
INSERT INTO external_identities (issuer, subject, provider, user_id, email, linked_at, last_sign_in_at)
VALUES (@issuer, @subject, @provider, @user_id, @email, @linked_at, @last_sign_in_at)
RETURNING *;

-- name: IdentityGet :one
-- Not locked: writers lock the user first, then the link (by touching or
-- deleting it), so a sign-in and an unlink never wait on each other crosswise.
SELECT * FROM external_identities WHERE issuer = @issuer AND subject = @subject;

-- name: IdentityListByUser :many
-- A user's links, oldest first.
SELECT * FROM external_identities WHERE user_id = @user_id ORDER BY linked_at, issuer, subject;

-- name: IdentityTouch :execrows
-- A sign-in through the link: last seen now, with the email the provider gave.
UPDATE external_identities SET last_sign_in_at = @last_sign_in_at, email = @email
WHERE issuer = @issuer AND subject = @subject;

-- name: IdentityDelete :execrows
-- Only the user's own link: another user's is as if it did not exist.
DELETE FROM external_identities WHERE user_id = @user_id AND issuer = @issuer AND subject = @subject;

-- name: IdentityLock :exec
-- Serialises sign-ins of one external identity until the transaction ends: of
-- two first sign-ins of the same person at once, the second waits, then finds
-- the link the first made. The key is a hash of issuer and subject (a
-- collision only makes two unrelated sign-ins wait for each other).
SELECT pg_advisory_xact_lock(hashtextextended(@issuer::text || chr(10) || @subject::text, 0));
