-- +goose Up
-- Browser sessions: a person signed in on the portal, known by a cookie on
-- every host under a cookie domain. They share the sessions table with API
-- sessions (the per-user cap and every way of ending a session count both),
-- so ending one writes session_revocations and NOTIFYs authgate_sessions as
-- for API sessions. The cookie (ags_…) is stored like an API key: its lookup
-- id, and only an HMAC of its secret. refreshed_at is "last seen" for both
-- kinds; for browser sessions idle_expires_at slides to
-- least(last seen + idle_seconds, expires_at), idle_seconds being the idle
-- lifetime chosen at sign-in (longer when "remember this device").
-- cookie_domain is the cookie domain the session was signed in for: its cookie
-- is honoured on that domain's hosts only, whatever a browser sends elsewhere.
ALTER TABLE sessions
    ADD COLUMN kind               text     NOT NULL DEFAULT 'api' CHECK (kind IN ('api', 'browser')),
    ADD COLUMN device_name        text     NOT NULL DEFAULT '' CHECK (char_length(device_name) <= 100),
    ADD COLUMN cookie_lookup_id   text     UNIQUE,
    ADD COLUMN cookie_mac         bytea,
    ADD COLUMN cookie_mac_version smallint,
    ADD COLUMN cookie_domain      text     CHECK (char_length(cookie_domain) BETWEEN 1 AND 253),
    ADD COLUMN idle_seconds       integer  CHECK (idle_seconds > 0),
    ADD COLUMN remember           boolean  NOT NULL DEFAULT false,
    -- A browser session has its cookie and its idle lifetime; an API session
    -- (whose credential is its refresh tokens) has neither.
    ADD CONSTRAINT sessions_browser_cookie CHECK (CASE kind
        WHEN 'browser' THEN cookie_lookup_id IS NOT NULL AND cookie_mac IS NOT NULL
                            AND cookie_mac_version IS NOT NULL AND cookie_domain IS NOT NULL
                            AND idle_seconds IS NOT NULL
        ELSE cookie_lookup_id IS NULL AND cookie_mac IS NULL AND cookie_mac_version IS NULL
             AND cookie_domain IS NULL AND idle_seconds IS NULL AND NOT remember
    END);

-- +goose Down
-- An earlier version has no use for browser sessions and would take them for
-- API sessions without refresh tokens.
DELETE FROM sessions WHERE kind = 'browser';
ALTER TABLE sessions
    DROP CONSTRAINT sessions_browser_cookie,
    DROP COLUMN remember,
    DROP COLUMN idle_seconds,
    DROP COLUMN cookie_domain,
    DROP COLUMN cookie_mac_version,
    DROP COLUMN cookie_mac,
    DROP COLUMN cookie_lookup_id,
    DROP COLUMN device_name,
    DROP COLUMN kind;
