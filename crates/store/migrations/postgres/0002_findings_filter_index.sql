-- One index holding every filter column, so counting a filtered list reads
-- only the index, never the (much wider) table rows.
CREATE INDEX findings_filter ON findings(severity_rank, status, source, assignee_id, asset);
