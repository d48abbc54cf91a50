-- +goose Up
-- One alphabet for permissions and scopes (verify.ValidScope): resource:action
-- from letters, digits and . _ - : /, and no * (the token verifier refuses it).
-- authgate's own namespace is reserved. NOT VALID: rows an earlier version
-- allowed stay as they are, never silently rewritten; authgate reports each at
-- start and in 'authgate migrate', and leaves them out of every token.
ALTER TABLE permissions DROP CONSTRAINT permissions_name_check;
ALTER TABLE permissions ADD CONSTRAINT permissions_name_check
    CHECK (name ~ '^[A-Za-z0-9._/-]+:[A-Za-z0-9._:/-]+$' AND char_length(name) <= 100
           AND name NOT LIKE 'authgate:%') NOT VALID;

-- +goose Down
ALTER TABLE permissions DROP CONSTRAINT permissions_name_check;
ALTER TABLE permissions ADD CONSTRAINT permissions_name_check
    CHECK (name ~ '^[a-z0-9_.-]+:[a-z0-9_.*-]+$' AND char_length(name) <= 100) NOT VALID;
