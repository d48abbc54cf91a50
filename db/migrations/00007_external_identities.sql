-- +goose Up
-- External identities: a person as an OpenID provider knows them (issuer +
-- subject, the provider's stable name for them), linked to one authgate user.
-- provider is the configured provider's id at link time (for display and the
-- audit trail; the issuer is what identifies). email is what the provider said
-- at the last sign-in, for display only: it never decides anything after the
-- link is made. A user's links go with the user.
CREATE TABLE external_identities (
    issuer          text        NOT NULL CHECK (char_length(issuer) BETWEEN 1 AND 2048),
    subject         text        NOT NULL CHECK (char_length(subject) BETWEEN 1 AND 255),
    provider        text        NOT NULL CHECK (char_length(provider) BETWEEN 1 AND 64),
    user_id         text        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email           text        NOT NULL DEFAULT '' CHECK (char_length(email) <= 254),
    linked_at       timestamptz NOT NULL,
    last_sign_in_at timestamptz NOT NULL,
    PRIMARY KEY (issuer, subject)
);
CREATE INDEX external_identities_user ON external_identities (user_id, linked_at);

-- +goose Down
DROP TABLE external_identities;
