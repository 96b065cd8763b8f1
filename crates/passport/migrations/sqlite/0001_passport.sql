-- Mocha Passport: exactly the fields the privacy policy names, and nothing else.
-- Times are unix seconds (UTC).

CREATE TABLE users (
    -- AUTOINCREMENT: an id is never handed out twice, even after an account is deleted.
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    username              TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    display_name          TEXT    NOT NULL,
    password_hash         BLOB    NOT NULL,
    password_salt         BLOB    NOT NULL,
    password_iterations   INTEGER NOT NULL,
    is_admin              INTEGER NOT NULL DEFAULT 0,
    contact_requests_from TEXT    NOT NULL DEFAULT 'everyone',
    created_at            INTEGER NOT NULL
);

CREATE TABLE bans (
    user_id    INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    permanent  INTEGER NOT NULL,
    expires_at INTEGER,
    reason     TEXT,
    -- No foreign key: the record of who banned stays if that admin's account goes.
    issued_by  INTEGER NOT NULL,
    issued_at  INTEGER NOT NULL
);

-- A sign-in is one refresh-token family: rotating keeps the family, revoking ends it.
CREATE TABLE sign_ins (
    id             TEXT    PRIMARY KEY,
    user_id        INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at     INTEGER NOT NULL,
    revoked_at     INTEGER,
    revoked_reason TEXT
);
CREATE INDEX sign_ins_by_user ON sign_ins(user_id);

CREATE TABLE refresh_tokens (
    -- SHA-256 of the token; the token itself is never stored.
    token_hash BLOB    PRIMARY KEY,
    sign_in_id TEXT    NOT NULL REFERENCES sign_ins(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    -- Set when the token is rotated or its sign-in revoked.
    revoked_at INTEGER
);
CREATE INDEX refresh_tokens_by_sign_in ON refresh_tokens(sign_in_id);

-- Accepted contacts, one row per direction so each side keeps its own alias.
CREATE TABLE contacts (
    owner_id   INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    contact_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    alias      TEXT,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (owner_id, contact_id)
);
CREATE INDEX contacts_by_contact ON contacts(contact_id);

CREATE TABLE blocks (
    blocker_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    blocked_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (blocker_id, blocked_id)
);
CREATE INDEX blocks_by_blocked ON blocks(blocked_id);

CREATE TABLE contact_requests (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    from_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    to_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    message    TEXT,
    created_at INTEGER NOT NULL,
    UNIQUE (from_id, to_id)
);
CREATE INDEX contact_requests_by_to ON contact_requests(to_id);

CREATE TABLE activity_alerts (
    id                  TEXT    PRIMARY KEY,
    recipient_id        INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind                TEXT    NOT NULL,
    sender_id           INTEGER NOT NULL,
    sender_username     TEXT    NOT NULL,
    sender_display_name TEXT    NOT NULL,
    text                TEXT    NOT NULL,
    created_at          INTEGER NOT NULL
);
CREATE INDEX activity_alerts_by_recipient ON activity_alerts(recipient_id);
