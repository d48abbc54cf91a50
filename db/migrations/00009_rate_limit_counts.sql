-- +goose Up
-- Requests admitted under a route's rate limit, as each instance tells the
-- others: every instance adds what it admitted since its last exchange and
-- charges its own limiter with what the others added (db.RateSync), so that a
-- client spread over instances converges to the limit. Rows are read for a
-- few seconds after they are written and pruned soon after.
CREATE TABLE rate_limit_counts (
    id         bigserial   PRIMARY KEY,
    instance   text        NOT NULL CHECK (char_length(instance) BETWEEN 1 AND 64),
    who        text        NOT NULL CHECK (char_length(who) BETWEEN 1 AND 4096),
    route      text        NOT NULL CHECK (char_length(route) <= 4096),
    requests   integer     NOT NULL CHECK (requests > 0),
    window_ms  bigint      NOT NULL CHECK (window_ms > 0),
    burst      integer     NOT NULL CHECK (burst > 0),
    n          bigint      NOT NULL CHECK (n > 0),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX rate_limit_counts_created ON rate_limit_counts (created_at);

-- +goose Down
DROP TABLE rate_limit_counts;
