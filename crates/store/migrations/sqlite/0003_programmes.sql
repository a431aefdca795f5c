-- Disclosure and bounty programmes: scope, invitations, researcher reports with
-- their threads, attachments, bounties and in-app notifications.

ALTER TABLE users ADD COLUMN handle TEXT;
ALTER TABLE users ADD COLUMN email_verified INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN show_in_thanks INTEGER NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX users_handle ON users(LOWER(handle));

CREATE TABLE programmes (
    id                    INTEGER PRIMARY KEY,
    slug                  TEXT NOT NULL UNIQUE,
    name                  TEXT NOT NULL,
    summary               TEXT NOT NULL DEFAULT '',
    policy                TEXT NOT NULL DEFAULT '',
    rules                 TEXT NOT NULL DEFAULT '',
    safe_harbour          TEXT NOT NULL,
    visibility            TEXT NOT NULL CHECK (visibility IN ('private', 'public')),
    email                 TEXT UNIQUE,
    currency              TEXT NOT NULL DEFAULT 'USD',
    bounty_critical       INTEGER NOT NULL DEFAULT 0,
    bounty_high           INTEGER NOT NULL DEFAULT 0,
    bounty_medium         INTEGER NOT NULL DEFAULT 0,
    bounty_low            INTEGER NOT NULL DEFAULT 0,
    budget                INTEGER,
    target_first_response INTEGER NOT NULL DEFAULT 1,
    target_triage         INTEGER NOT NULL DEFAULT 2,
    target_bounty         INTEGER NOT NULL DEFAULT 1,
    target_resolution     INTEGER NOT NULL DEFAULT 30,
    pause_on_breach       INTEGER NOT NULL DEFAULT 0,
    submissions_paused    INTEGER NOT NULL DEFAULT 0,
    needs_info_close_days INTEGER NOT NULL DEFAULT 30,
    launched_at           INTEGER,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL
);

CREATE TABLE programme_scope (
    id           INTEGER PRIMARY KEY,
    programme_id INTEGER NOT NULL REFERENCES programmes(id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    asset_type   TEXT NOT NULL,
    identifier   TEXT NOT NULL,
    in_scope     INTEGER NOT NULL,
    max_severity TEXT,
    note         TEXT NOT NULL DEFAULT ''
);
CREATE INDEX programme_scope_programme ON programme_scope(programme_id, position);

-- Researchers allowed into a private programme (by accepting an invitation).
CREATE TABLE programme_members (
    programme_id INTEGER NOT NULL REFERENCES programmes(id) ON DELETE CASCADE,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    joined_at    INTEGER NOT NULL,
    PRIMARY KEY (programme_id, user_id)
);
CREATE INDEX programme_members_user ON programme_members(user_id);

CREATE TABLE invitations (
    id           INTEGER PRIMARY KEY,
    programme_id INTEGER NOT NULL REFERENCES programmes(id) ON DELETE CASCADE,
    email        TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    invited_by   INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    answered_at  INTEGER,
    answer       TEXT CHECK (answer IN ('accepted', 'declined')),
    user_id      INTEGER REFERENCES users(id) ON DELETE SET NULL
);
CREATE INDEX invitations_programme ON invitations(programme_id, created_at);
CREATE INDEX invitations_email ON invitations(email);

CREATE TABLE reports (
    id                  INTEGER PRIMARY KEY,
    programme_id        INTEGER NOT NULL REFERENCES programmes(id) ON DELETE CASCADE,
    researcher_id       INTEGER NOT NULL REFERENCES users(id),
    title               TEXT NOT NULL,
    description         TEXT NOT NULL,
    steps               TEXT NOT NULL DEFAULT '',
    impact              TEXT NOT NULL DEFAULT '',
    asset               TEXT,
    out_of_scope        INTEGER NOT NULL DEFAULT 0,
    cwe                 INTEGER,
    cvss_vector         TEXT,
    researcher_severity TEXT,
    final_severity      TEXT,
    final_cvss_vector   TEXT,
    state               TEXT NOT NULL,
    state_before_info   TEXT,
    duplicate_of        INTEGER REFERENCES reports(id) ON DELETE SET NULL,
    assignee_id         INTEGER REFERENCES users(id) ON DELETE SET NULL,
    tracker_url         TEXT,
    received_via        TEXT NOT NULL DEFAULT 'web',
    known_issue         INTEGER NOT NULL DEFAULT 0,
    finding_id          INTEGER REFERENCES findings(id) ON DELETE SET NULL,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    state_since         INTEGER NOT NULL,
    paused_ms           INTEGER NOT NULL DEFAULT 0,
    first_response_at   INTEGER,
    triaged_at          INTEGER,
    bounty_at           INTEGER,
    resolved_at         INTEGER,
    disclosure          TEXT NOT NULL DEFAULT 'none'
                        CHECK (disclosure IN ('none', 'requested_by_researcher', 'requested_by_team', 'disclosed')),
    disclosed_at        INTEGER,
    disclosed_summary   TEXT,
    -- The title as published (the team may redact hosts or paths from it).
    disclosed_title     TEXT
);
CREATE INDEX reports_programme ON reports(programme_id, created_at DESC);
CREATE INDEX reports_researcher ON reports(researcher_id, created_at DESC);
CREATE INDEX reports_state ON reports(state, created_at);
CREATE INDEX reports_assignee ON reports(assignee_id);

-- A report's thread: comments, internal notes and every change, in order.
CREATE TABLE report_events (
    id         INTEGER PRIMARY KEY,
    report_id  INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
    author_id  INTEGER REFERENCES users(id) ON DELETE SET NULL,
    kind       TEXT NOT NULL,
    body       TEXT NOT NULL DEFAULT '',
    internal   INTEGER NOT NULL DEFAULT 0,
    from_state TEXT,
    to_state   TEXT,
    detail     TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
);
CREATE INDEX report_events_report ON report_events(report_id, id);

-- Reporters of confirmed duplicates follow the original, read-only.
CREATE TABLE report_participants (
    report_id INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
    user_id   INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    added_at  INTEGER NOT NULL,
    PRIMARY KEY (report_id, user_id)
);
CREATE INDEX report_participants_user ON report_participants(user_id);

CREATE TABLE attachments (
    id           INTEGER PRIMARY KEY,
    -- NULL while staged: uploaded with a form that failed validation, kept
    -- so the researcher does not have to choose the files again.
    report_id    INTEGER REFERENCES reports(id) ON DELETE CASCADE,
    event_id     INTEGER REFERENCES report_events(id) ON DELETE SET NULL,
    uploader_id  INTEGER REFERENCES users(id) ON DELETE SET NULL,
    filename     TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         INTEGER NOT NULL,
    sha256       TEXT NOT NULL,
    internal     INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL
);
CREATE INDEX attachments_report ON attachments(report_id, id);
CREATE INDEX attachments_uploader ON attachments(uploader_id, created_at);

CREATE TABLE bounties (
    id         INTEGER PRIMARY KEY,
    report_id  INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
    kind       TEXT NOT NULL CHECK (kind IN ('bounty', 'retest')),
    amount     INTEGER NOT NULL,
    bonus      INTEGER NOT NULL DEFAULT 0,
    status     TEXT NOT NULL CHECK (status IN ('pending', 'paid')),
    awarded_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    paid_at    INTEGER,
    reference  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX bounties_report ON bounties(report_id);

CREATE TABLE notifications (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    report_id  INTEGER REFERENCES reports(id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    message    TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    read_at    INTEGER
);
CREATE INDEX notifications_user ON notifications(user_id, id DESC);

-- Weaknesses the company already knows of: suggested as originals of new
-- reports like any report, and listed on the programme page as not
-- eligible for a bounty.
CREATE TABLE known_issues (
    id           INTEGER PRIMARY KEY,
    programme_id INTEGER NOT NULL REFERENCES programmes(id) ON DELETE CASCADE,
    title        TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    asset        TEXT,
    cwe          INTEGER,
    finding_id   INTEGER REFERENCES findings(id) ON DELETE SET NULL,
    report_id    INTEGER REFERENCES reports(id) ON DELETE SET NULL,
    public       INTEGER NOT NULL DEFAULT 1,
    created_at   INTEGER NOT NULL
);
CREATE INDEX known_issues_programme ON known_issues(programme_id, id);

CREATE TABLE reply_templates (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    body       TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
