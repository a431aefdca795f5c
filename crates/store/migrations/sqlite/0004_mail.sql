-- The security@ mailbox: every message taken in (once per Message-ID), with its
-- sender checks and what became of it; the Message-IDs Rampart sent, so that
-- replies thread; and server secrets (the reply-address key) generated once.

CREATE TABLE mail_intake (
    id           INTEGER PRIMARY KEY,
    -- Normalised Message-ID (without angle brackets, lower-cased), or
    -- "sha256:<hex>" of the raw bytes for a message that has none.
    message_id   TEXT NOT NULL UNIQUE,
    received_at  INTEGER NOT NULL,
    -- 'processing' while being applied, then the outcome.
    outcome      TEXT NOT NULL,
    sender       TEXT NOT NULL DEFAULT '',
    subject      TEXT NOT NULL DEFAULT '',
    size         INTEGER NOT NULL DEFAULT 0,
    report_id    INTEGER REFERENCES reports(id) ON DELETE SET NULL,
    event_id     INTEGER,
    spf          TEXT NOT NULL DEFAULT 'none',
    dkim         TEXT NOT NULL DEFAULT 'none',
    dmarc        TEXT NOT NULL DEFAULT 'none',
    -- Comma-separated flags (auth_failed, out_of_scope, …).
    flags        TEXT NOT NULL DEFAULT '',
    detail       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX mail_intake_report ON mail_intake(report_id);

CREATE TABLE mail_sent (
    message_id   TEXT PRIMARY KEY,
    report_id    INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL
);
CREATE INDEX mail_sent_report ON mail_sent(report_id);

CREATE TABLE mail_secrets (
    name         TEXT PRIMARY KEY,
    value        TEXT NOT NULL,
    created_at   INTEGER NOT NULL
);
