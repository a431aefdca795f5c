-- Outbound delivery: every email, Slack message and webhook call is written
-- here first and sent by a worker (retries with backoff, claimed with a lease
-- so two workers never send one row at the same time); each try is logged.
-- Team members' notification preferences and their daily-digest items.

CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    -- 'email', 'webhook' or 'slack'.
    channel         TEXT NOT NULL,
    -- email: the recipient address; webhook/slack: the endpoint's name in the settings.
    target          TEXT NOT NULL,
    -- email: the subject; webhook/slack: the event name.
    subject         TEXT NOT NULL,
    -- email: the plain-text body; webhook/slack: the JSON body sent.
    body            TEXT NOT NULL,
    -- JSON object of extra headers (Reply-To, In-Reply-To, References, Auto-Submitted).
    headers         TEXT NOT NULL DEFAULT '{}',
    message_id      TEXT,
    report_id       INTEGER REFERENCES reports(id) ON DELETE SET NULL,
    user_id         INTEGER REFERENCES users(id) ON DELETE SET NULL,
    -- What it is about: a notice kind or webhook event.
    kind            TEXT NOT NULL,
    -- Queued at most once per key (one webhook call per event, however many
    -- team notices carried it; one breach message per clock).
    dedupe_key      TEXT UNIQUE,
    -- queued → sending → sent | failed (retried) → … → dead (given up).
    state           TEXT NOT NULL DEFAULT 'queued',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    -- While 'sending': the claim expires then (a worker that died).
    lease_until     INTEGER,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    -- When the current round of tries began (queued, or retried by an admin):
    -- the worker gives up (dead) a fixed time after it.
    queued_at       INTEGER NOT NULL,
    sent_at         INTEGER
);
CREATE INDEX outbox_due ON outbox(state, next_attempt_at);
CREATE INDEX outbox_thread ON outbox(report_id, target, channel);

CREATE TABLE outbox_attempts (
    id          INTEGER PRIMARY KEY,
    outbox_id   INTEGER NOT NULL REFERENCES outbox(id) ON DELETE CASCADE,
    at          INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    ok          INTEGER NOT NULL,
    -- HTTP status, or the SMTP reply code; NULL when no answer came.
    status_code INTEGER,
    -- The server's answer (first 500 characters) or the error.
    detail      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX outbox_attempts_row ON outbox_attempts(outbox_id);

CREATE TABLE notification_prefs (
    user_id     INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    -- 'immediate', 'daily' or 'none'.
    email       TEXT NOT NULL DEFAULT 'immediate',
    updated_at  INTEGER NOT NULL
);

CREATE TABLE notification_digest (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    report_id   INTEGER REFERENCES reports(id) ON DELETE SET NULL,
    kind        TEXT NOT NULL,
    message     TEXT NOT NULL,
    at          INTEGER NOT NULL
);
CREATE INDEX notification_digest_user ON notification_digest(user_id, id);

-- Response-target breaches already announced (mail to the team, webhooks),
-- so each report's breach of each target is announced once.
CREATE TABLE breach_notices (
    report_id   INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
    target      TEXT NOT NULL,
    notified_at INTEGER NOT NULL,
    PRIMARY KEY (report_id, target)
);
