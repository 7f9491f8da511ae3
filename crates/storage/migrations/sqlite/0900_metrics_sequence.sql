-- Servers keep each collection's checklists and counters between metrics reads
-- (storage::metrics::cache). Every write transaction that recounts a checklist or changes what
-- the metrics list moves metrics_seq.n at commit, and stamps each recounted checklist with it
-- (counted_seq), so a reader holding a copy taken at n refetches only the checklists stamped
-- after n. Changes to the listing itself (assets, labels, assignments, pins, revisions,
-- collection names) are noted in metrics_structure_stale by triggers and set structure_n, which
-- sends readers back to a full load.
CREATE TABLE metrics_seq (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    n           INTEGER NOT NULL,
    structure_n INTEGER NOT NULL
);
INSERT INTO metrics_seq (id, n, structure_n) VALUES (1, 0, 0);

ALTER TABLE stig_asset_map ADD COLUMN counted_seq INTEGER NOT NULL DEFAULT 0;
CREATE INDEX stig_asset_map_counted_seq ON stig_asset_map (counted_seq);

-- one row while the writing transaction has changed the listing (SQLite has one writer)
CREATE TABLE metrics_structure_stale (
    id INTEGER PRIMARY KEY CHECK (id = 1)
);

CREATE TRIGGER metrics_structure_asset_insert AFTER INSERT ON asset
BEGIN INSERT INTO metrics_structure_stale SELECT 1
    WHERE NOT EXISTS (SELECT 1 FROM metrics_structure_stale); END;
CREATE TRIGGER metrics_structure_asset_update
    AFTER UPDATE OF collection_id, name, fqdn, ip, mac, noncomputing, state ON asset
BEGIN INSERT INTO metrics_structure_stale SELECT 1
    WHERE NOT EXISTS (SELECT 1 FROM metrics_structure_stale); END;
CREATE TRIGGER metrics_structure_asset_delete AFTER DELETE ON asset
BEGIN INSERT INTO metrics_structure_stale SELECT 1
    WHERE NOT EXISTS (SELECT 1 FROM metrics_structure_stale); END;
CREATE TRIGGER metrics_structure_assignment_insert AFTER INSERT ON stig_asset_map
BEGIN INSERT INTO metrics_structure_stale SELECT 1
    WHERE NOT EXISTS (SELECT 1 FROM metrics_structure_stale); END;
CREATE TRIGGER metrics_structure_assignment_delete AFTER DELETE ON stig_asset_map
BEGIN INSERT INTO metrics_structure_stale SELECT 1
    WHERE NOT EXISTS (SELECT 1 FROM metrics_structure_stale); END;
CREATE TRIGGER metrics_structure_collection_insert AFTER INSERT ON collection
BEGIN INSERT INTO metrics_structure_stale SELECT 1
    WHERE NOT EXISTS (SELECT 1 FROM metrics_structure_stale); END;
CREATE TRIGGER metrics_structure_collection_update AFTER UPDATE OF name, state ON collection
BEGIN INSERT INTO metrics_structure_stale SELECT 1
    WHERE NOT EXISTS (SELECT 1 FROM metrics_structure_stale); END;
CREATE TRIGGER metrics_structure_collection_delete AFTER DELETE ON collection
BEGIN INSERT INTO metrics_structure_stale SELECT 1
    WHERE NOT EXISTS (SELECT 1 FROM metrics_structure_stale); END;
CREATE TRIGGER metrics_structure_label_insert AFTER INSERT ON collection_label
BEGIN INSERT INTO metrics_structure_stale SELECT 1
    WHERE NOT EXISTS (SELECT 1 FROM metrics_structure_stale); END;
CREATE TRIGGER metrics_structure_label_update AFTER UPDATE ON collection_label
BEGIN INSERT INTO metrics_structure_stale SELECT 1
    WHERE NOT EXISTS (SELECT 1 FROM metrics_structure_stale); END;
CREATE TRIGGER metrics_structure_label_delete AFTER DELETE ON collection_label
BEGIN INSERT INTO metrics_structure_stale SELECT 1
    WHERE NOT EXISTS (SELECT 1 FROM metrics_structure_stale); END;
CREATE TRIGGER metrics_structure_asset_label_insert AFTER INSERT ON collection_label_asset_map
BEGIN INSERT INTO metrics_structure_stale SELECT 1
    WHERE NOT EXISTS (SELECT 1 FROM metrics_structure_stale); END;
CREATE TRIGGER metrics_structure_asset_label_update AFTER UPDATE ON collection_label_asset_map
BEGIN INSERT INTO metrics_structure_stale SELECT 1
    WHERE NOT EXISTS (SELECT 1 FROM metrics_structure_stale); END;
CREATE TRIGGER metrics_structure_asset_label_delete AFTER DELETE ON collection_label_asset_map
BEGIN INSERT INTO metrics_structure_stale SELECT 1
    WHERE NOT EXISTS (SELECT 1 FROM metrics_structure_stale); END;
CREATE TRIGGER metrics_structure_pin_insert AFTER INSERT ON collection_rev_map
BEGIN INSERT INTO metrics_structure_stale SELECT 1
    WHERE NOT EXISTS (SELECT 1 FROM metrics_structure_stale); END;
CREATE TRIGGER metrics_structure_pin_update AFTER UPDATE ON collection_rev_map
BEGIN INSERT INTO metrics_structure_stale SELECT 1
    WHERE NOT EXISTS (SELECT 1 FROM metrics_structure_stale); END;
CREATE TRIGGER metrics_structure_pin_delete AFTER DELETE ON collection_rev_map
BEGIN INSERT INTO metrics_structure_stale SELECT 1
    WHERE NOT EXISTS (SELECT 1 FROM metrics_structure_stale); END;
CREATE TRIGGER metrics_structure_stig_insert AFTER INSERT ON stig
BEGIN INSERT INTO metrics_structure_stale SELECT 1
    WHERE NOT EXISTS (SELECT 1 FROM metrics_structure_stale); END;
CREATE TRIGGER metrics_structure_stig_update AFTER UPDATE ON stig
BEGIN INSERT INTO metrics_structure_stale SELECT 1
    WHERE NOT EXISTS (SELECT 1 FROM metrics_structure_stale); END;
CREATE TRIGGER metrics_structure_stig_delete AFTER DELETE ON stig
BEGIN INSERT INTO metrics_structure_stale SELECT 1
    WHERE NOT EXISTS (SELECT 1 FROM metrics_structure_stale); END;
CREATE TRIGGER metrics_structure_revision_insert AFTER INSERT ON revision
BEGIN INSERT INTO metrics_structure_stale SELECT 1
    WHERE NOT EXISTS (SELECT 1 FROM metrics_structure_stale); END;
CREATE TRIGGER metrics_structure_revision_update AFTER UPDATE ON revision
BEGIN INSERT INTO metrics_structure_stale SELECT 1
    WHERE NOT EXISTS (SELECT 1 FROM metrics_structure_stale); END;
CREATE TRIGGER metrics_structure_revision_delete AFTER DELETE ON revision
BEGIN INSERT INTO metrics_structure_stale SELECT 1
    WHERE NOT EXISTS (SELECT 1 FROM metrics_structure_stale); END;
CREATE TRIGGER metrics_structure_current_rev_insert AFTER INSERT ON current_rev
BEGIN INSERT INTO metrics_structure_stale SELECT 1
    WHERE NOT EXISTS (SELECT 1 FROM metrics_structure_stale); END;
CREATE TRIGGER metrics_structure_current_rev_update AFTER UPDATE ON current_rev
BEGIN INSERT INTO metrics_structure_stale SELECT 1
    WHERE NOT EXISTS (SELECT 1 FROM metrics_structure_stale); END;
CREATE TRIGGER metrics_structure_current_rev_delete AFTER DELETE ON current_rev
BEGIN INSERT INTO metrics_structure_stale SELECT 1
    WHERE NOT EXISTS (SELECT 1 FROM metrics_structure_stale); END;
