-- +goose Up
-- Personal long-lived tokens (agp_…): a user's own credential for a kiosk, a
-- Home Assistant card or a camera stream. Stored like API keys (only an HMAC of
-- the secret). They always expire; their power is their scopes intersected with
-- the user's permissions at the time of each check.
CREATE TABLE personal_tokens (
    id           text        PRIMARY KEY,                 -- tok_…
    lookup_id    text        NOT NULL,
    secret_mac   bytea       NOT NULL,
    mac_version  smallint    NOT NULL,
    user_id      text        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    scopes       text[]      NOT NULL DEFAULT '{}',
    expires_at   timestamptz NOT NULL,
    revoked_at   timestamptz,
    last_used_at timestamptz,                             -- approximate: at most once a minute
    created_at   timestamptz NOT NULL
);
CREATE UNIQUE INDEX personal_tokens_lookup_id ON personal_tokens (lookup_id);
-- Names are unique among a user's unrevoked tokens; the service revokes an
-- expired token whose name a new one takes.
CREATE UNIQUE INDEX personal_tokens_live_name ON personal_tokens (user_id, name) WHERE revoked_at IS NULL;
CREATE INDEX personal_tokens_user ON personal_tokens (user_id, created_at DESC);

-- A change to a token (except last_used_at) is announced on authgate_keys with
-- its lookup id, like an API key's, so every instance drops its cached copy.
CREATE TRIGGER personal_tokens_notify_write AFTER INSERT OR DELETE ON personal_tokens
    FOR EACH ROW EXECUTE FUNCTION api_keys_notify();
CREATE TRIGGER personal_tokens_notify_update AFTER UPDATE ON personal_tokens
    FOR EACH ROW
    WHEN ((to_jsonb(OLD) - 'last_used_at') IS DISTINCT FROM (to_jsonb(NEW) - 'last_used_at'))
    EXECUTE FUNCTION api_keys_notify();

-- What a token may do depends on its user's roles and state, so any change to
-- them (a role unassigned, a grant revoked, a permission deleted, a user
-- disabled or deleted) is announced on authgate_keys as "*": every instance
-- drops its whole credential cache. Such changes are rare; the next check of
-- each credential reads it afresh.
-- +goose StatementBegin
CREATE FUNCTION rbac_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('authgate_keys', '*');
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER user_roles_notify AFTER INSERT OR UPDATE OR DELETE ON user_roles
    FOR EACH STATEMENT EXECUTE FUNCTION rbac_notify();
CREATE TRIGGER role_permissions_notify AFTER INSERT OR UPDATE OR DELETE ON role_permissions
    FOR EACH STATEMENT EXECUTE FUNCTION rbac_notify();
CREATE TRIGGER permissions_notify AFTER DELETE ON permissions
    FOR EACH STATEMENT EXECUTE FUNCTION rbac_notify();
CREATE TRIGGER users_notify AFTER UPDATE OF disabled_at, username, email OR DELETE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION rbac_notify();

-- +goose Down
DROP TRIGGER users_notify ON users;
DROP TRIGGER permissions_notify ON permissions;
DROP TRIGGER role_permissions_notify ON role_permissions;
DROP TRIGGER user_roles_notify ON user_roles;
DROP FUNCTION rbac_notify();
DROP TABLE personal_tokens;
