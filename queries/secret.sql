-- name: SecretGet :one
SELECT * FROM server_secret;

-- name: SecretGetForUpdate :one
SELECT * FROM server_secret FOR UPDATE;

-- name: SecretInit :exec
-- The first start records its secret; a concurrent first start loses quietly
-- and then reads the winner's row.
INSERT INTO server_secret (fingerprint, mac_version, updated_at)
VALUES (@fingerprint, 1, @updated_at)
ON CONFLICT (id) DO NOTHING;

-- name: SecretRotate :exec
UPDATE server_secret
SET fingerprint = @fingerprint, mac_version = @mac_version,
    previous_fingerprint = @previous_fingerprint, updated_at = @updated_at;

-- name: SecretSigningKeys :many
-- Every sealed signing key, retired or not, for resealing under a new secret.
SELECT kid, private_key FROM signing_keys WHERE alg <> 'HS256' AND octet_length(private_key) > 0
ORDER BY kid
FOR UPDATE;

-- name: SecretSigningKeyReseal :exec
UPDATE signing_keys SET private_key = @private_key WHERE kid = @kid;

-- name: SecretCredentialsBelow :one
-- Live credentials hashed under a MAC version below @mac_version: those a
-- server holding only the newer versions refuses.
SELECT
    (SELECT count(*) FROM api_keys k
     WHERE k.mac_version < @mac_version AND k.revoked_at IS NULL
       AND (k.expires_at IS NULL OR k.expires_at > @now::timestamptz))::bigint AS api_keys,
    (SELECT count(*) FROM personal_tokens t
     WHERE t.mac_version < @mac_version AND t.revoked_at IS NULL AND t.expires_at > @now::timestamptz)::bigint AS personal_tokens;
