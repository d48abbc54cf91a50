-- +goose Up
-- People who log in. Usernames and emails are unique whatever their case; the
-- password is stored only as an argon2id hash (PHC string).
CREATE TABLE users (
    id              text        PRIMARY KEY,                 -- usr_…
    username        text        NOT NULL CHECK (char_length(username) BETWEEN 1 AND 64),
    email           text        NOT NULL CHECK (char_length(email) BETWEEN 3 AND 254),
    full_name       text        NOT NULL DEFAULT '' CHECK (char_length(full_name) <= 200),
    password_hash   text        NOT NULL,
    disabled_at     timestamptz,
    -- Login throttling per account: failures counted from failed_since; the
    -- account is locked until locked_until once they reach the threshold.
    failed_logins   integer     NOT NULL DEFAULT 0,
    failed_since    timestamptz,
    locked_until    timestamptz,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);
CREATE UNIQUE INDEX users_username_key ON users (lower(username));
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE INDEX users_created ON users (created_at DESC, id DESC);

-- RBAC. Permissions are named resource:action. The admin role holds every
-- permission, present and future: that rule lives in the permission query, not
-- in rows of role_permissions.
CREATE TABLE permissions (
    name        text        PRIMARY KEY CHECK (name ~ '^[a-z0-9_.-]+:[a-z0-9_.*-]+$' AND char_length(name) <= 100),
    description text        NOT NULL DEFAULT '' CHECK (char_length(description) <= 500),
    builtin     boolean     NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE roles (
    name        text        PRIMARY KEY CHECK (name ~ '^[a-z0-9_.-]{1,64}$'),
    description text        NOT NULL DEFAULT '' CHECK (char_length(description) <= 500),
    builtin     boolean     NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE role_permissions (
    role       text NOT NULL REFERENCES roles (name) ON DELETE CASCADE,
    permission text NOT NULL REFERENCES permissions (name) ON DELETE CASCADE,
    PRIMARY KEY (role, permission)
);
CREATE TABLE user_roles (
    user_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role    text NOT NULL REFERENCES roles (name) ON DELETE CASCADE,
    PRIMARY KEY (user_id, role)
);

INSERT INTO permissions (name, description, builtin) VALUES
    ('keys:read',           'list and read API keys', true),
    ('keys:write',          'create, rotate, disable and revoke API keys', true),
    ('users:read',          'list and read users and their roles', true),
    ('users:write',         'create, update, disable and delete users; assign roles', true),
    ('roles:read',          'list roles and permissions', true),
    ('roles:write',         'create and delete roles and permissions; grant and revoke', true),
    ('sessions:write',      'revoke any user''s sessions', true),
    ('signing_keys:write',  'rotate the JWT signing key', true),
    ('audit:read',          'read the audit log', true);
INSERT INTO roles (name, description, builtin) VALUES
    ('admin',    'everything, including permissions added later', true),
    ('operator', 'manage keys and sessions; read users and the audit log', true),
    ('viewer',   'read keys, users and roles', true);
INSERT INTO role_permissions (role, permission) VALUES
    ('operator', 'keys:read'), ('operator', 'keys:write'), ('operator', 'users:read'),
    ('operator', 'roles:read'), ('operator', 'sessions:write'), ('operator', 'audit:read'),
    ('viewer', 'keys:read'), ('viewer', 'users:read'), ('viewer', 'roles:read');

-- A login. Its refresh tokens rotate on every use; all of them are one family.
CREATE TABLE sessions (
    id              text        PRIMARY KEY,                 -- ses_…
    user_id         text        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at      timestamptz NOT NULL,
    refreshed_at    timestamptz NOT NULL,
    idle_expires_at timestamptz NOT NULL,                    -- refreshed_at + idle TTL
    expires_at      timestamptz NOT NULL,                    -- created_at + absolute TTL
    revoked_at      timestamptz,
    revoke_reason   text,                                    -- logout, revoked, evicted, reuse, user_disabled, user_deleted
    ip              text        NOT NULL DEFAULT '',
    user_agent      text        NOT NULL DEFAULT '' CHECK (char_length(user_agent) <= 512)
);
CREATE INDEX sessions_live_by_user ON sessions (user_id, created_at) WHERE revoked_at IS NULL;

-- Refresh tokens (agr_…), stored like API keys: only an HMAC of the secret.
-- used_at is set when the token is exchanged; presenting it again after the
-- reuse grace revokes the whole session.
CREATE TABLE refresh_tokens (
    lookup_id   text        PRIMARY KEY,
    session_id  text        NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    secret_mac  bytea       NOT NULL,
    mac_version smallint    NOT NULL,
    created_at  timestamptz NOT NULL,
    used_at     timestamptz
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

-- The deny-list of access tokens: a session revoked here denies every access
-- token naming it (sid) until expires_at, after which none can still be valid
-- (revoked_at + access TTL + leeway). Append-only; rows past expires_at are
-- pruned. Each insert is announced on authgate_sessions with the session id.
CREATE TABLE session_revocations (
    seq        bigserial   PRIMARY KEY,
    session_id text        NOT NULL,
    revoked_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX session_revocations_expires ON session_revocations (expires_at);

-- +goose StatementBegin
CREATE FUNCTION session_revocations_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('authgate_sessions', NEW.session_id);
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER session_revocations_notify AFTER INSERT ON session_revocations
    FOR EACH ROW EXECUTE FUNCTION session_revocations_notify();

-- JWT signing keys. The private key is sealed (AEAD) under a key derived from
-- AUTHGATE_SECRET; the public key is PKIX DER (empty for HS256, whose secret
-- comes from the environment). The newest key of the configured algorithm
-- without retire_at signs; keys verify until retire_at.
CREATE TABLE signing_keys (
    kid         text        PRIMARY KEY,
    alg         text        NOT NULL CHECK (alg IN ('ES256', 'EdDSA', 'HS256')),
    public_key  bytea       NOT NULL,
    private_key bytea       NOT NULL,
    created_at  timestamptz NOT NULL,
    retire_at   timestamptz
);
-- +goose StatementBegin
CREATE FUNCTION signing_keys_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('authgate_signing_keys', COALESCE(NEW.kid, OLD.kid));
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER signing_keys_notify AFTER INSERT OR UPDATE OR DELETE ON signing_keys
    FOR EACH ROW EXECUTE FUNCTION signing_keys_notify();

-- The audit log: one row per mutation, written in the mutation's transaction,
-- and per login attempt. Never a secret or a password. Append-only: updates are
-- refused, and deletes only by the retention prune, which sets
-- authgate.audit_prune for its transaction.
CREATE TABLE audit_log (
    id            bigserial   PRIMARY KEY,
    at            timestamptz NOT NULL,
    actor         text        NOT NULL,                      -- key:<id>, user:<id>, cli, anonymous
    action        text        NOT NULL,                      -- key.create, user.login_failed, …
    resource_type text        NOT NULL,
    resource_id   text        NOT NULL DEFAULT '',
    ip            text        NOT NULL DEFAULT '',
    user_agent    text        NOT NULL DEFAULT '',
    request_id    text        NOT NULL DEFAULT '',
    outcome       text        NOT NULL CHECK (outcome IN ('success', 'failure')),
    metadata      jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object')
);
CREATE INDEX audit_log_at ON audit_log (at DESC, id DESC);
CREATE INDEX audit_log_actor ON audit_log (actor, at DESC);
CREATE INDEX audit_log_resource ON audit_log (resource_type, resource_id, at DESC);
CREATE INDEX audit_log_action ON audit_log (action, at DESC);

-- +goose StatementBegin
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('authgate.audit_prune', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only';
END
$$;
-- +goose StatementEnd
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

-- +goose Down
DROP TABLE audit_log;
DROP FUNCTION audit_log_append_only();
DROP TABLE signing_keys;
DROP FUNCTION signing_keys_notify();
DROP TABLE session_revocations;
DROP FUNCTION session_revocations_notify();
DROP TABLE refresh_tokens;
DROP TABLE sessions;
DROP TABLE user_roles;
DROP TABLE role_permissions;
DROP TABLE roles;
DROP TABLE permissions;
DROP TABLE users;
