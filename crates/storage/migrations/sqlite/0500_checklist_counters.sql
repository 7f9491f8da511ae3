-- Per-checklist counters, as upstream keeps them in stig_asset_map: the reviews matched to the
-- rules of each assignment's default revision (the collection's pin, else the current revision)
-- counted by result, status and severity, with their time span. Triggers note what a
-- change makes stale (metrics_stale: an assignment, or '*' for every assignment of an asset;
-- metrics_stale_rev: every assignment whose default revision this is) and the writer recounts
-- those checklists before its transaction commits (storage::metrics::counters), so stored
-- counters always equal a recount. The metrics_epoch cache this replaces is dropped.
-- Marks are added only when missing (NOT EXISTS), not with OR IGNORE: SQLite applies the outer
-- statement's conflict handling to trigger bodies, so an upsert would fail on a repeated mark.

DROP TRIGGER metrics_epoch_review_insert;
DROP TRIGGER metrics_epoch_review_update;
DROP TRIGGER metrics_epoch_review_delete;
DROP TRIGGER metrics_epoch_stig_asset_map_insert;
DROP TRIGGER metrics_epoch_stig_asset_map_update;
DROP TRIGGER metrics_epoch_stig_asset_map_delete;
DROP TRIGGER metrics_epoch_collection_rev_map_insert;
DROP TRIGGER metrics_epoch_collection_rev_map_update;
DROP TRIGGER metrics_epoch_collection_rev_map_delete;
DROP TRIGGER metrics_epoch_current_rev_insert;
DROP TRIGGER metrics_epoch_current_rev_update;
DROP TRIGGER metrics_epoch_current_rev_delete;
DROP TRIGGER metrics_epoch_revision_insert;
DROP TRIGGER metrics_epoch_revision_update;
DROP TRIGGER metrics_epoch_revision_delete;
DROP TRIGGER metrics_epoch_rev_group_rule_map_insert;
DROP TRIGGER metrics_epoch_rev_group_rule_map_update;
DROP TRIGGER metrics_epoch_rev_group_rule_map_delete;
DROP TRIGGER metrics_epoch_rule_version_check_digest_insert;
DROP TRIGGER metrics_epoch_rule_version_check_digest_update;
DROP TRIGGER metrics_epoch_rule_version_check_digest_delete;
DROP TRIGGER metrics_epoch_asset_insert;
DROP TRIGGER metrics_epoch_asset_update;
DROP TRIGGER metrics_epoch_asset_delete;
DROP TRIGGER metrics_epoch_collection_insert;
DROP TRIGGER metrics_epoch_collection_update;
DROP TRIGGER metrics_epoch_collection_delete;
DROP TRIGGER metrics_epoch_collection_label_insert;
DROP TRIGGER metrics_epoch_collection_label_update;
DROP TRIGGER metrics_epoch_collection_label_delete;
DROP TRIGGER metrics_epoch_collection_label_asset_map_insert;
DROP TRIGGER metrics_epoch_collection_label_asset_map_update;
DROP TRIGGER metrics_epoch_collection_label_asset_map_delete;
DROP TRIGGER metrics_epoch_collection_grant_insert;
DROP TRIGGER metrics_epoch_collection_grant_update;
DROP TRIGGER metrics_epoch_collection_grant_delete;
DROP TRIGGER metrics_epoch_collection_grant_acl_insert;
DROP TRIGGER metrics_epoch_collection_grant_acl_update;
DROP TRIGGER metrics_epoch_collection_grant_acl_delete;
DROP TRIGGER metrics_epoch_user_group_user_map_insert;
DROP TRIGGER metrics_epoch_user_group_user_map_update;
DROP TRIGGER metrics_epoch_user_group_user_map_delete;
DROP TABLE metrics_epoch;

ALTER TABLE stig_asset_map ADD COLUMN notchecked INTEGER NOT NULL DEFAULT 0;
ALTER TABLE stig_asset_map ADD COLUMN notchecked_result_engine INTEGER NOT NULL DEFAULT 0;
ALTER TABLE stig_asset_map ADD COLUMN notapplicable INTEGER NOT NULL DEFAULT 0;
ALTER TABLE stig_asset_map ADD COLUMN notapplicable_result_engine INTEGER NOT NULL DEFAULT 0;
ALTER TABLE stig_asset_map ADD COLUMN pass INTEGER NOT NULL DEFAULT 0;
ALTER TABLE stig_asset_map ADD COLUMN pass_result_engine INTEGER NOT NULL DEFAULT 0;
ALTER TABLE stig_asset_map ADD COLUMN fail INTEGER NOT NULL DEFAULT 0;
ALTER TABLE stig_asset_map ADD COLUMN fail_result_engine INTEGER NOT NULL DEFAULT 0;
ALTER TABLE stig_asset_map ADD COLUMN unknown INTEGER NOT NULL DEFAULT 0;
ALTER TABLE stig_asset_map ADD COLUMN unknown_result_engine INTEGER NOT NULL DEFAULT 0;
ALTER TABLE stig_asset_map ADD COLUMN error INTEGER NOT NULL DEFAULT 0;
ALTER TABLE stig_asset_map ADD COLUMN error_result_engine INTEGER NOT NULL DEFAULT 0;
ALTER TABLE stig_asset_map ADD COLUMN notselected INTEGER NOT NULL DEFAULT 0;
ALTER TABLE stig_asset_map ADD COLUMN notselected_result_engine INTEGER NOT NULL DEFAULT 0;
ALTER TABLE stig_asset_map ADD COLUMN informational INTEGER NOT NULL DEFAULT 0;
ALTER TABLE stig_asset_map ADD COLUMN informational_result_engine INTEGER NOT NULL DEFAULT 0;
ALTER TABLE stig_asset_map ADD COLUMN fixed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE stig_asset_map ADD COLUMN fixed_result_engine INTEGER NOT NULL DEFAULT 0;
ALTER TABLE stig_asset_map ADD COLUMN saved INTEGER NOT NULL DEFAULT 0;
ALTER TABLE stig_asset_map ADD COLUMN saved_result_engine INTEGER NOT NULL DEFAULT 0;
ALTER TABLE stig_asset_map ADD COLUMN submitted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE stig_asset_map ADD COLUMN submitted_result_engine INTEGER NOT NULL DEFAULT 0;
ALTER TABLE stig_asset_map ADD COLUMN rejected INTEGER NOT NULL DEFAULT 0;
ALTER TABLE stig_asset_map ADD COLUMN rejected_result_engine INTEGER NOT NULL DEFAULT 0;
ALTER TABLE stig_asset_map ADD COLUMN accepted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE stig_asset_map ADD COLUMN accepted_result_engine INTEGER NOT NULL DEFAULT 0;
ALTER TABLE stig_asset_map ADD COLUMN high_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE stig_asset_map ADD COLUMN medium_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE stig_asset_map ADD COLUMN low_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE stig_asset_map ADD COLUMN assessed_high_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE stig_asset_map ADD COLUMN assessed_medium_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE stig_asset_map ADD COLUMN assessed_low_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE stig_asset_map ADD COLUMN min_ts INTEGER;
ALTER TABLE stig_asset_map ADD COLUMN max_ts INTEGER;
ALTER TABLE stig_asset_map ADD COLUMN max_touch_ts INTEGER;
-- upstream's restricted users of the checklist, as loaded from application data
ALTER TABLE stig_asset_map ADD COLUMN user_ids TEXT;

CREATE TABLE metrics_stale (
    asset_id     INTEGER NOT NULL,
    benchmark_id TEXT NOT NULL,
    PRIMARY KEY (asset_id, benchmark_id)
);
CREATE TABLE metrics_stale_rev (
    rev_id TEXT PRIMARY KEY
);

CREATE TRIGGER metrics_stale_review_insert AFTER INSERT ON review
BEGIN
    INSERT INTO metrics_stale SELECT NEW.asset_id, '*'
    WHERE NOT EXISTS (SELECT 1 FROM metrics_stale
        WHERE asset_id = NEW.asset_id AND benchmark_id = '*');
END;
CREATE TRIGGER metrics_stale_review_update AFTER UPDATE ON review
BEGIN
    INSERT INTO metrics_stale SELECT NEW.asset_id, '*'
    WHERE NOT EXISTS (SELECT 1 FROM metrics_stale
        WHERE asset_id = NEW.asset_id AND benchmark_id = '*');
    INSERT INTO metrics_stale SELECT OLD.asset_id, '*'
    WHERE NOT EXISTS (SELECT 1 FROM metrics_stale
        WHERE asset_id = OLD.asset_id AND benchmark_id = '*');
END;
CREATE TRIGGER metrics_stale_review_delete AFTER DELETE ON review
BEGIN
    INSERT INTO metrics_stale SELECT OLD.asset_id, '*'
    WHERE NOT EXISTS (SELECT 1 FROM metrics_stale
        WHERE asset_id = OLD.asset_id AND benchmark_id = '*');
END;
CREATE TRIGGER metrics_stale_assignment AFTER INSERT ON stig_asset_map
BEGIN
    INSERT INTO metrics_stale SELECT NEW.asset_id, NEW.benchmark_id
    WHERE NOT EXISTS (SELECT 1 FROM metrics_stale
        WHERE asset_id = NEW.asset_id AND benchmark_id = NEW.benchmark_id);
END;
CREATE TRIGGER metrics_stale_asset_transfer AFTER UPDATE OF collection_id ON asset
BEGIN
    INSERT INTO metrics_stale SELECT NEW.asset_id, '*'
    WHERE NOT EXISTS (SELECT 1 FROM metrics_stale
        WHERE asset_id = NEW.asset_id AND benchmark_id = '*');
END;

CREATE TRIGGER metrics_stale_pin_insert AFTER INSERT ON collection_rev_map
BEGIN
    INSERT INTO metrics_stale
    SELECT a.asset_id, sa.benchmark_id FROM asset a
    JOIN stig_asset_map sa ON sa.asset_id = a.asset_id
    WHERE a.collection_id = NEW.collection_id AND sa.benchmark_id = NEW.benchmark_id
        AND NOT EXISTS (SELECT 1 FROM metrics_stale s
            WHERE s.asset_id = a.asset_id AND s.benchmark_id = sa.benchmark_id);
END;
CREATE TRIGGER metrics_stale_pin_update AFTER UPDATE ON collection_rev_map
BEGIN
    INSERT INTO metrics_stale
    SELECT a.asset_id, sa.benchmark_id FROM asset a
    JOIN stig_asset_map sa ON sa.asset_id = a.asset_id
    WHERE a.collection_id = OLD.collection_id AND sa.benchmark_id = OLD.benchmark_id
        AND NOT EXISTS (SELECT 1 FROM metrics_stale s
            WHERE s.asset_id = a.asset_id AND s.benchmark_id = sa.benchmark_id);
    INSERT INTO metrics_stale
    SELECT a.asset_id, sa.benchmark_id FROM asset a
    JOIN stig_asset_map sa ON sa.asset_id = a.asset_id
    WHERE a.collection_id = NEW.collection_id AND sa.benchmark_id = NEW.benchmark_id
        AND NOT EXISTS (SELECT 1 FROM metrics_stale s
            WHERE s.asset_id = a.asset_id AND s.benchmark_id = sa.benchmark_id);
END;
CREATE TRIGGER metrics_stale_pin_delete AFTER DELETE ON collection_rev_map
BEGIN
    INSERT INTO metrics_stale
    SELECT a.asset_id, sa.benchmark_id FROM asset a
    JOIN stig_asset_map sa ON sa.asset_id = a.asset_id
    WHERE a.collection_id = OLD.collection_id AND sa.benchmark_id = OLD.benchmark_id
        AND NOT EXISTS (SELECT 1 FROM metrics_stale s
            WHERE s.asset_id = a.asset_id AND s.benchmark_id = sa.benchmark_id);
END;
CREATE TRIGGER metrics_stale_current_rev_insert AFTER INSERT ON current_rev
BEGIN
    INSERT INTO metrics_stale_rev SELECT NEW.rev_id
    WHERE NOT EXISTS (SELECT 1 FROM metrics_stale_rev WHERE rev_id = NEW.rev_id);
END;
CREATE TRIGGER metrics_stale_current_rev_update AFTER UPDATE ON current_rev
BEGIN
    INSERT INTO metrics_stale_rev SELECT NEW.rev_id
    WHERE NOT EXISTS (SELECT 1 FROM metrics_stale_rev WHERE rev_id = NEW.rev_id);
END;
CREATE TRIGGER metrics_stale_rule_insert AFTER INSERT ON rev_group_rule_map
BEGIN
    INSERT INTO metrics_stale_rev SELECT NEW.rev_id
    WHERE NOT EXISTS (SELECT 1 FROM metrics_stale_rev WHERE rev_id = NEW.rev_id);
END;
CREATE TRIGGER metrics_stale_rule_update AFTER UPDATE ON rev_group_rule_map
BEGIN
    INSERT INTO metrics_stale_rev SELECT OLD.rev_id
    WHERE NOT EXISTS (SELECT 1 FROM metrics_stale_rev WHERE rev_id = OLD.rev_id);
    INSERT INTO metrics_stale_rev SELECT NEW.rev_id
    WHERE NOT EXISTS (SELECT 1 FROM metrics_stale_rev WHERE rev_id = NEW.rev_id);
END;
CREATE TRIGGER metrics_stale_rule_delete AFTER DELETE ON rev_group_rule_map
BEGIN
    INSERT INTO metrics_stale_rev SELECT OLD.rev_id
    WHERE NOT EXISTS (SELECT 1 FROM metrics_stale_rev WHERE rev_id = OLD.rev_id);
END;
CREATE TRIGGER metrics_stale_review_key_insert AFTER INSERT ON rule_version_check_digest
BEGIN
    INSERT INTO metrics_stale_rev
    SELECT DISTINCT rgr.rev_id FROM rev_group_rule_map rgr WHERE rgr.rule_id = NEW.rule_id
        AND NOT EXISTS (SELECT 1 FROM metrics_stale_rev s WHERE s.rev_id = rgr.rev_id);
END;
CREATE TRIGGER metrics_stale_review_key_update AFTER UPDATE ON rule_version_check_digest
BEGIN
    INSERT INTO metrics_stale_rev
    SELECT DISTINCT rgr.rev_id FROM rev_group_rule_map rgr WHERE rgr.rule_id = OLD.rule_id
        AND NOT EXISTS (SELECT 1 FROM metrics_stale_rev s WHERE s.rev_id = rgr.rev_id);
    INSERT INTO metrics_stale_rev
    SELECT DISTINCT rgr.rev_id FROM rev_group_rule_map rgr WHERE rgr.rule_id = NEW.rule_id
        AND NOT EXISTS (SELECT 1 FROM metrics_stale_rev s WHERE s.rev_id = rgr.rev_id);
END;
CREATE TRIGGER metrics_stale_review_key_delete AFTER DELETE ON rule_version_check_digest
BEGIN
    INSERT INTO metrics_stale_rev
    SELECT DISTINCT rgr.rev_id FROM rev_group_rule_map rgr WHERE rgr.rule_id = OLD.rule_id
        AND NOT EXISTS (SELECT 1 FROM metrics_stale_rev s WHERE s.rev_id = rgr.rev_id);
END;

-- existing installations are counted on the first start after this migration
INSERT INTO metrics_stale SELECT DISTINCT asset_id, '*' FROM stig_asset_map;
