-- Mail to people with a known OpenPGP key is encrypted to it: each user may
-- keep one public key (armoured, as they pasted it; checked to parse as a
-- public key before it is stored). Refusals mailed back to senders of mail
-- taken over IMAP or HTTP, at most one per sender per hour, so that two
-- robots answering each other can never loop.

CREATE TABLE user_pgp_keys (
    user_id     BIGINT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    armored     TEXT NOT NULL,
    -- The primary key's fingerprint, upper-case hex.
    fingerprint TEXT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE mail_refusals_sent (
    -- The sender's address, lower-case.
    sender      TEXT PRIMARY KEY,
    sent_at     BIGINT NOT NULL
);

-- The per-sender rate limit of mail intake counts a sender's recent mail.
CREATE INDEX mail_intake_sender ON mail_intake(sender, received_at);
