-- +goose Up
-- A key's own rate limit (the verify endpoints decide it in memory, like a
-- route's rate=): rate_limit requests per rate_limit_window_seconds, in bursts
-- of up to rate_limit_burst; all three set or none. Values the earlier,
-- unenforced columns may hold that the API would refuse (out of range, or a
-- burst taking over a day to refill) are dropped rather than enforced.
ALTER TABLE api_keys ADD COLUMN rate_limit_burst integer CHECK (rate_limit_burst > 0);
UPDATE api_keys SET rate_limit_burst = rate_limit
WHERE rate_limit BETWEEN 1 AND 1000000 AND rate_limit_window_seconds BETWEEN 1 AND 86400;
UPDATE api_keys SET rate_limit = NULL, rate_limit_window_seconds = NULL
WHERE rate_limit_burst IS NULL AND (rate_limit IS NOT NULL OR rate_limit_window_seconds IS NOT NULL);
ALTER TABLE api_keys ADD CONSTRAINT api_keys_rate_limit_whole CHECK (
    (rate_limit IS NULL AND rate_limit_window_seconds IS NULL AND rate_limit_burst IS NULL) OR
    (rate_limit IS NOT NULL AND rate_limit_window_seconds IS NOT NULL AND rate_limit_burst IS NOT NULL));
COMMENT ON COLUMN api_keys.rate_limit IS 'requests per rate_limit_window_seconds, enforced on the verify endpoints';

-- +goose Down
ALTER TABLE api_keys DROP CONSTRAINT api_keys_rate_limit_whole;
ALTER TABLE api_keys DROP COLUMN rate_limit_burst;
