-- name: UsageAdd :exec
-- Adds a batch of counts, one row per (credential_id, hour, outcome, reason),
-- which must not repeat within the batch. Callers sort the batch, so that
-- concurrent batches of several instances lock rows in the same order.
INSERT INTO credential_usage (credential_id, hour, outcome, reason, count)
SELECT unnest(@credential_ids::text[]), unnest(@hours::timestamptz[]), unnest(@outcomes::text[]),
       unnest(@reasons::text[]), unnest(@counts::bigint[])
ON CONFLICT (credential_id, hour, outcome, reason) DO UPDATE SET count = credential_usage.count + excluded.count;

-- name: UsageList :many
-- A credential's counts in [since, until), newest hour first, for the newest
-- max_hours hours that have any.
WITH hours AS (
    SELECT DISTINCT h.hour FROM credential_usage h
    WHERE h.credential_id = @credential_id AND h.hour >= @since AND h.hour < @until
    ORDER BY h.hour DESC
    LIMIT @max_hours
)
SELECT c.hour, c.outcome, c.reason, c.count FROM credential_usage c JOIN hours USING (hour)
WHERE c.credential_id = @credential_id
ORDER BY c.hour DESC, c.outcome, c.reason;

-- name: UsagePrune :execrows
DELETE FROM credential_usage WHERE hour < @before;

-- name: UsageTotals :many
-- Each credential's allowed and denied answers from since on; a credential
-- without any has no row.
SELECT credential_id,
       COALESCE(sum(count) FILTER (WHERE outcome = 'allow'), 0)::bigint AS allowed,
       COALESCE(sum(count) FILTER (WHERE outcome = 'deny'), 0)::bigint AS denied
FROM credential_usage
WHERE credential_id = ANY(@credential_ids::text[]) AND hour >= @since
GROUP BY credential_id;
