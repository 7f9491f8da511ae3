-- Servers keep each collection's checklists and counters between metrics reads
-- (storage::metrics::cache). Every write transaction that recounts a checklist or changes what
-- the metrics list moves metrics_seq.n at commit, and stamps each recounted checklist with it
-- (counted_seq), so a reader holding a copy taken at n refetches only the checklists stamped
-- after n. The row is updated last in the transaction, so its lock orders the numbers as the
-- commits. Changes to the listing itself (assets, labels, assignments, pins, revisions,
-- collection names) are noted in metrics_structure_stale by triggers and set structure_n, which
-- sends readers back to a full load.
CREATE TABLE metrics_seq (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    n           BIGINT NOT NULL,
    structure_n BIGINT NOT NULL
);
INSERT INTO metrics_seq (id, n, structure_n) VALUES (1, 0, 0);

ALTER TABLE stig_asset_map ADD COLUMN counted_seq BIGINT NOT NULL DEFAULT 0;
CREATE INDEX stig_asset_map_counted_seq ON stig_asset_map (counted_seq);

-- a row per writing transaction that changed the listing, so writers never wait on each other
CREATE TABLE metrics_structure_stale (
    xact BIGINT PRIMARY KEY DEFAULT txid_current()
);

CREATE FUNCTION metrics_structure_mark() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO metrics_structure_stale DEFAULT VALUES ON CONFLICT DO NOTHING;
    RETURN NULL;
END;
$$;

-- bulk tables: one mark per statement that changed a row
CREATE FUNCTION metrics_structure_mark_new() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM new_rows) THEN
        INSERT INTO metrics_structure_stale DEFAULT VALUES ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END;
$$;
CREATE FUNCTION metrics_structure_mark_old() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM old_rows) THEN
        INSERT INTO metrics_structure_stale DEFAULT VALUES ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER metrics_structure_assignment_insert AFTER INSERT ON stig_asset_map
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION metrics_structure_mark_new();
CREATE TRIGGER metrics_structure_assignment_delete AFTER DELETE ON stig_asset_map
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION metrics_structure_mark_old();
CREATE TRIGGER metrics_structure_asset_label_insert AFTER INSERT ON collection_label_asset_map
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION metrics_structure_mark_new();
CREATE TRIGGER metrics_structure_asset_label_update AFTER UPDATE ON collection_label_asset_map
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION metrics_structure_mark_new();
CREATE TRIGGER metrics_structure_asset_label_delete AFTER DELETE ON collection_label_asset_map
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION metrics_structure_mark_old();

-- the rest change a few rows at a time
CREATE TRIGGER metrics_structure_asset_insert_delete AFTER INSERT OR DELETE ON asset
    FOR EACH ROW EXECUTE FUNCTION metrics_structure_mark();
CREATE TRIGGER metrics_structure_asset_update AFTER UPDATE ON asset FOR EACH ROW
    WHEN (OLD.collection_id IS DISTINCT FROM NEW.collection_id
        OR OLD.name IS DISTINCT FROM NEW.name OR OLD.fqdn IS DISTINCT FROM NEW.fqdn
        OR OLD.ip IS DISTINCT FROM NEW.ip OR OLD.mac IS DISTINCT FROM NEW.mac
        OR OLD.noncomputing IS DISTINCT FROM NEW.noncomputing
        OR OLD.state IS DISTINCT FROM NEW.state)
    EXECUTE FUNCTION metrics_structure_mark();
CREATE TRIGGER metrics_structure_collection_insert_delete AFTER INSERT OR DELETE ON collection
    FOR EACH ROW EXECUTE FUNCTION metrics_structure_mark();
CREATE TRIGGER metrics_structure_collection_update AFTER UPDATE ON collection FOR EACH ROW
    WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.state IS DISTINCT FROM NEW.state)
    EXECUTE FUNCTION metrics_structure_mark();
CREATE TRIGGER metrics_structure_label AFTER INSERT OR UPDATE OR DELETE ON collection_label
    FOR EACH ROW EXECUTE FUNCTION metrics_structure_mark();
CREATE TRIGGER metrics_structure_pin AFTER INSERT OR UPDATE OR DELETE ON collection_rev_map
    FOR EACH ROW EXECUTE FUNCTION metrics_structure_mark();
CREATE TRIGGER metrics_structure_stig AFTER INSERT OR UPDATE OR DELETE ON stig
    FOR EACH ROW EXECUTE FUNCTION metrics_structure_mark();
CREATE TRIGGER metrics_structure_revision AFTER INSERT OR UPDATE OR DELETE ON revision
    FOR EACH ROW EXECUTE FUNCTION metrics_structure_mark();
CREATE TRIGGER metrics_structure_current_rev AFTER INSERT OR UPDATE OR DELETE ON current_rev
    FOR EACH ROW EXECUTE FUNCTION metrics_structure_mark();
