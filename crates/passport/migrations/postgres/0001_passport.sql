-- Mocha Passport on PostgreSQL: the same tables, columns and rules as
-- migrations/sqlite/0001_passport.sql, in PostgreSQL's types. Times are unix seconds (UTC).
-- Integers are BIGINT throughout: Passport reads every one as a 64-bit number.

CREATE TABLE users (
    -- An identity is never handed out twice, even after an account is deleted.
    id                    BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username              TEXT    NOT NULL,
    display_name          TEXT    NOT NULL,
    password_hash         BYTEA   NOT NULL,
    password_salt         BYTEA   NOT NULL,
    password_iterations   BIGINT  NOT NULL,
    is_admin              BOOLEAN NOT NULL DEFAULT FALSE,
    contact_requests_from TEXT    NOT NULL DEFAULT 'everyone',
    created_at            BIGINT  NOT NULL
);
-- Unique whatever its case (SQLite: COLLATE NOCASE). Usernames are ASCII, so
-- lower() folds exactly as NOCASE does; queries match on lower(username).
CREATE UNIQUE INDEX users_by_username ON users (lower(username));

CREATE TABLE bans (
    user_id    BIGINT  PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    permanent  BOOLEAN NOT NULL,
    expires_at BIGINT,
    reason     TEXT,
    -- No foreign key: the record of who banned stays if that admin's account goes.
    issued_by  BIGINT  NOT NULL,
    issued_at  BIGINT  NOT NULL
);

-- A sign-in is one refresh-token family: rotating keeps the family, revoking ends it.
CREATE TABLE sign_ins (
    id             TEXT   PRIMARY KEY,
    user_id        BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at     BIGINT NOT NULL,
    revoked_at     BIGINT,
    revoked_reason TEXT
);
CREATE INDEX sign_ins_by_user ON sign_ins(user_id);

CREATE TABLE refresh_tokens (
    -- SHA-256 of the token; the token itself is never stored.
    token_hash BYTEA  PRIMARY KEY,
    sign_in_id TEXT   NOT NULL REFERENCES sign_ins(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    -- Set when the token is rotated or its sign-in revoked.
    revoked_at BIGINT
);
CREATE INDEX refresh_tokens_by_sign_in ON refresh_tokens(sign_in_id);

-- Accepted contacts, one row per direction so each side keeps its own alias.
CREATE TABLE contacts (
    owner_id   BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    contact_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    alias      TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (owner_id, contact_id)
);
CREATE INDEX contacts_by_contact ON contacts(contact_id);

CREATE TABLE blocks (
    blocker_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    blocked_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (blocker_id, blocked_id)
);
CREATE INDEX blocks_by_blocked ON blocks(blocked_id);

CREATE TABLE contact_requests (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    from_id    BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    to_id      BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    message    TEXT,
    created_at BIGINT NOT NULL,
    UNIQUE (from_id, to_id)
);
CREATE INDEX contact_requests_by_to ON contact_requests(to_id);

CREATE TABLE activity_alerts (
    id                  TEXT   PRIMARY KEY,
    -- Orders alerts filed in the same second, as SQLite's rowid does.
    seq                 BIGINT GENERATED ALWAYS AS IDENTITY,
    recipient_id        BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind                TEXT   NOT NULL,
    sender_id           BIGINT NOT NULL,
    sender_username     TEXT   NOT NULL,
    sender_display_name TEXT   NOT NULL,
    text                TEXT   NOT NULL,
    created_at          BIGINT NOT NULL
);
CREATE INDEX activity_alerts_by_recipient ON activity_alerts(recipient_id);
