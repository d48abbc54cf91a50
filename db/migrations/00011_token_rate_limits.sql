-- +goose Up
-- A personal token's own rate limit, as an API key's (00010): all three
-- columns set or none.
ALTER TABLE personal_tokens
    ADD COLUMN rate_limit                integer CHECK (rate_limit > 0),
    ADD COLUMN rate_limit_window_seconds integer CHECK (rate_limit_window_seconds > 0),
    ADD COLUMN rate_limit_burst          integer CHECK (rate_limit_burst > 0),
    ADD CONSTRAINT personal_tokens_rate_limit_whole CHECK (
        (rate_limit IS NULL AND rate_limit_window_seconds IS NULL AND rate_limit_burst IS NULL) OR
        (rate_limit IS NOT NULL AND rate_limit_window_seconds IS NOT NULL AND rate_limit_burst IS NOT NULL));

-- +goose Down
ALTER TABLE personal_tokens DROP CONSTRAINT personal_tokens_rate_limit_whole,
    DROP COLUMN rate_limit, DROP COLUMN rate_limit_window_seconds, DROP COLUMN rate_limit_burst;
