-- name: RateCountsAdd :exec
-- Adds one instance's counts, one row per credential, route and rule.
INSERT INTO rate_limit_counts (instance, who, route, requests, window_ms, burst, n)
SELECT @instance::text, unnest(@whos::text[]), unnest(@routes::text[]), unnest(@requests::int[]),
       unnest(@window_ms::bigint[]), unnest(@bursts::int[]), unnest(@ns::bigint[]);

-- name: RateCountsRecent :many
-- The other instances' counts with an id above after, written in the last
-- lookback_seconds (by the database's clock, so instances' clocks do not
-- matter), oldest first, at most max_rows.
SELECT id, who, route, requests, window_ms, burst, n FROM rate_limit_counts
WHERE id > @after AND created_at >= now() - make_interval(secs => @lookback_seconds::float8)
  AND instance <> @instance::text
ORDER BY id
LIMIT @max_rows;

-- name: RateCountsPrune :execrows
-- Deletes counts older than keep_seconds, by the database's clock.
DELETE FROM rate_limit_counts WHERE created_at < now() - make_interval(secs => @keep_seconds::float8);
