-- name: SigningKeyLock :exec
-- Held until the transaction ends. The key is "authgate" in ASCII, distinct
-- from the migration lock's.
SELECT pg_advisory_xact_lock(7022344802737054821);

-- name: SigningKeyInsert :exec
INSERT INTO signing_keys (kid, alg, public_key, private_key, created_at, retire_at)
VALUES (@kid, @alg, @public_key, @private_key, @created_at, @retire_at);

-- name: SigningKeyList :many
SELECT * FROM signing_keys
WHERE retire_at IS NULL OR retire_at > @now::timestamptz
ORDER BY created_at DESC, kid DESC;

-- name: SigningKeyRetire :exec
UPDATE signing_keys SET retire_at = @retire_at::timestamptz WHERE alg = @alg AND retire_at IS NULL;
