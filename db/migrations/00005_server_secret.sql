-- +goose Up
-- The AUTHGATE_SECRET this database is kept under, as a fingerprint (an HKDF
-- output of its own label, never the secret): authgate refuses to start
-- against a database set up under another secret, whose credentials and
-- signing keys would silently stop working. mac_version is the version of
-- the MAC key derived from the current secret (credential rows record the
-- version they were hashed under); a rotation bumps it, and remembers the
-- fingerprint of the secret it replaced, which stays accepted as
-- AUTHGATE_SECRET_PREVIOUS for the credentials hashed under it.
CREATE TABLE server_secret (
    id                   boolean     PRIMARY KEY DEFAULT true CHECK (id),
    fingerprint          text        NOT NULL CHECK (fingerprint ~ '^[0-9a-f]{64}$'),
    mac_version          smallint    NOT NULL CHECK (mac_version >= 1),
    previous_fingerprint text        CHECK (previous_fingerprint ~ '^[0-9a-f]{64}$'),
    updated_at           timestamptz NOT NULL
);

-- +goose Down
DROP TABLE server_secret;
