-- Findings at scale (100,000 and more).
--
-- 1. One index holding every filter column plus the default sort key, so that
--    counting a filtered list reads only this narrow index, never the much
--    wider table rows.
CREATE INDEX findings_filter ON findings(severity_rank, status, source, assignee_id, asset, last_seen, id);

-- 2. The per-column indexes end with the full sort key (last_seen, id): a
--    large batch shares one last_seen, and without the id the database had to
--    read and sort the whole tie group to pick one page.
DROP INDEX findings_last_seen;
DROP INDEX findings_status;
DROP INDEX findings_severity;
DROP INDEX findings_source;
DROP INDEX findings_asset;
DROP INDEX findings_assignee;
CREATE INDEX findings_last_seen ON findings(last_seen DESC, id DESC);
CREATE INDEX findings_status ON findings(status, last_seen DESC, id DESC);
CREATE INDEX findings_severity ON findings(severity_rank, last_seen DESC, id DESC);
CREATE INDEX findings_source ON findings(source, last_seen DESC, id DESC);
CREATE INDEX findings_asset ON findings(asset, last_seen DESC, id DESC);
CREATE INDEX findings_assignee ON findings(assignee_id, last_seen DESC, id DESC);
