-- name: AuditInsert :exec
INSERT INTO audit_log (at, actor, action, resource_type, resource_id, ip, user_agent, request_id, outcome, metadata)
VALUES (@at, @actor, @action, @resource_type, @resource_id, @ip, @user_agent, @request_id, @outcome, @metadata);

-- name: AuditList :many
-- Newest first; null filters match every row. since is inclusive, until
-- exclusive; a page continues strictly after after_id.
SELECT * FROM audit_log
WHERE (sqlc.narg(actor)::text IS NULL OR actor = sqlc.narg(actor)::text)
  AND (sqlc.narg(action)::text IS NULL OR action = sqlc.narg(action)::text)
  AND (sqlc.narg(resource_type)::text IS NULL OR resource_type = sqlc.narg(resource_type)::text)
  AND (sqlc.narg(resource_id)::text IS NULL OR resource_id = sqlc.narg(resource_id)::text)
  AND (sqlc.narg(since)::timestamptz IS NULL OR at >= sqlc.narg(since)::timestamptz)
  AND (sqlc.narg(until)::timestamptz IS NULL OR at < sqlc.narg(until)::timestamptz)
  AND (sqlc.narg(after_id)::bigint IS NULL OR id < sqlc.narg(after_id)::bigint)
ORDER BY id DESC
LIMIT @max_rows;

-- name: AuditSetPruning :exec
-- Lets this transaction delete from audit_log (see audit_log_append_only) when
-- value is 'on'; 'off' takes the permission back.
SELECT set_config('authgate.audit_prune', @value::text, true);

-- name: AuditPrune :execrows
DELETE FROM audit_log WHERE at < @before;
