-- +goose Up
-- Credential usage: how many verify answers each API key (key_…) and personal
-- token (tok_…) got, per hour, allowed or denied, and why when denied. The
-- id's prefix tells the kinds apart. Written in batches by the usage counter,
-- off the request path, so a row may lag the answers by a flush interval; no
-- foreign key, so that a credential's counts outlive it until retention
-- (AUTHGATE_AUDIT_RETENTION) prunes them by hour.
CREATE TABLE credential_usage (
    credential_id text        NOT NULL CHECK (char_length(credential_id) BETWEEN 1 AND 64),
    -- The start of the hour, UTC: a whole number of hours since the epoch,
    -- whatever the session's time zone.
    hour          timestamptz NOT NULL CHECK (extract(epoch FROM hour) % 3600 = 0),
    outcome       text        NOT NULL CHECK (outcome IN ('allow', 'deny')),
    -- verify.Reason's name for a deny (wrong_secret, expired, …); '' for an allow.
    reason        text        NOT NULL CHECK ((outcome = 'allow') = (reason = '') AND char_length(reason) <= 32),
    count         bigint      NOT NULL CHECK (count > 0),
    PRIMARY KEY (credential_id, hour, outcome, reason)
);
CREATE INDEX credential_usage_hour ON credential_usage (hour);

-- +goose Down
DROP TABLE credential_usage;
