-- +goose Up
-- API keys. The secret is never stored: only its HMAC under a server key
-- (mac_version names which one). lookup_id is the non-secret part of the key
-- the verifier looks it up by.
CREATE TABLE api_keys (
    id                        text        PRIMARY KEY,
    lookup_id                 text        NOT NULL,
    secret_mac                bytea       NOT NULL,
    mac_version               smallint    NOT NULL,
    subject                   text        NOT NULL, -- stays the same across rotations
    name                      text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    scopes                    text[]      NOT NULL DEFAULT '{}',
    metadata                  jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
    expires_at                timestamptz,
    disabled_at               timestamptz,          -- reversible
    revoked_at                timestamptz,          -- final
    rotated_from              text        REFERENCES api_keys (id),
    rate_limit                integer     CHECK (rate_limit > 0),            -- requests per window; not enforced yet
    rate_limit_window_seconds integer     CHECK (rate_limit_window_seconds > 0),
    last_used_at              timestamptz,          -- approximate: written at most once a minute
    created_at                timestamptz NOT NULL,
    created_by                text        NOT NULL  -- actor: "key:<id>" or "cli"
);

CREATE UNIQUE INDEX api_keys_lookup_id ON api_keys (lookup_id);
CREATE INDEX api_keys_created ON api_keys (created_at DESC, id DESC);

-- Every change to a key that could change a verify decision is announced on
-- channel authgate_keys with the key's lookup id, at commit, so every instance
-- drops its cached copy. last_used_at alone is not announced.
-- +goose StatementBegin
CREATE FUNCTION api_keys_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('authgate_keys', OLD.lookup_id);
    ELSE
        PERFORM pg_notify('authgate_keys', NEW.lookup_id);
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER api_keys_notify_write AFTER INSERT OR DELETE ON api_keys
    FOR EACH ROW EXECUTE FUNCTION api_keys_notify();
CREATE TRIGGER api_keys_notify_update AFTER UPDATE ON api_keys
    FOR EACH ROW
    WHEN ((to_jsonb(OLD) - 'last_used_at') IS DISTINCT FROM (to_jsonb(NEW) - 'last_used_at'))
    EXECUTE FUNCTION api_keys_notify();

-- +goose Down
DROP TABLE api_keys;
DROP FUNCTION api_keys_notify();
