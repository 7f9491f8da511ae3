-- Per-checklist counters, as upstream keeps them in stig_asset_map: the reviews matched to the
-- rules of each assignment's default revision (the collection's pin, else the current revision)
-- counted by result, status and severity, with their time span. Statement-level
-- triggers note what a change makes stale (metrics_stale: an assignment, or '*' for every
-- assignment of an asset; metrics_stale_rev: every assignment whose default revision this is)
-- and the writer recounts those checklists before its transaction commits
-- (storage::metrics::counters), so stored counters always equal a recount. The metrics_epoch
-- cache this replaces is dropped.

-- Stale rows carry the writing transaction, so concurrent writers never wait on each other's
-- marks; each recounts its own.
DROP FUNCTION metrics_epoch_bump() CASCADE;
DROP TABLE metrics_epoch;

ALTER TABLE stig_asset_map
    ADD COLUMN notchecked BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN notchecked_result_engine BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN notapplicable BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN notapplicable_result_engine BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN pass BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN pass_result_engine BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN fail BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN fail_result_engine BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN unknown BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN unknown_result_engine BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN error BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN error_result_engine BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN notselected BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN notselected_result_engine BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN informational BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN informational_result_engine BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN fixed BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN fixed_result_engine BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN saved BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN saved_result_engine BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN submitted BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN submitted_result_engine BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN rejected BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN rejected_result_engine BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN accepted BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN accepted_result_engine BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN high_count BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN medium_count BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN low_count BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN assessed_high_count BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN assessed_medium_count BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN assessed_low_count BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN min_ts BIGINT,
    ADD COLUMN max_ts BIGINT,
    ADD COLUMN max_touch_ts BIGINT,
    -- upstream's restricted users of the checklist, as loaded from application data
    ADD COLUMN user_ids TEXT;

CREATE TABLE metrics_stale (
    xact         BIGINT NOT NULL DEFAULT txid_current(),
    asset_id     BIGINT NOT NULL,
    benchmark_id TEXT NOT NULL,
    PRIMARY KEY (xact, asset_id, benchmark_id)
);
CREATE TABLE metrics_stale_rev (
    xact   BIGINT NOT NULL DEFAULT txid_current(),
    rev_id TEXT NOT NULL,
    PRIMARY KEY (xact, rev_id)
);

CREATE FUNCTION metrics_stale_review() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO metrics_stale (asset_id, benchmark_id)
        SELECT DISTINCT asset_id, '*' FROM new_rows ON CONFLICT DO NOTHING;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO metrics_stale (asset_id, benchmark_id)
        SELECT DISTINCT asset_id, '*' FROM old_rows ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER metrics_stale_review_insert AFTER INSERT ON review
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION metrics_stale_review();
CREATE TRIGGER metrics_stale_review_update AFTER UPDATE ON review
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION metrics_stale_review();
CREATE TRIGGER metrics_stale_review_delete AFTER DELETE ON review
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION metrics_stale_review();

CREATE FUNCTION metrics_stale_assignment() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO metrics_stale (asset_id, benchmark_id)
    SELECT asset_id, benchmark_id FROM new_rows ON CONFLICT DO NOTHING;
    RETURN NULL;
END;
$$;
CREATE TRIGGER metrics_stale_assignment AFTER INSERT ON stig_asset_map
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION metrics_stale_assignment();

CREATE FUNCTION metrics_stale_asset_transfer() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO metrics_stale (asset_id, benchmark_id)
    SELECT n.asset_id, '*' FROM new_rows n JOIN old_rows o ON o.asset_id = n.asset_id
    WHERE o.collection_id <> n.collection_id ON CONFLICT DO NOTHING;
    RETURN NULL;
END;
$$;
CREATE TRIGGER metrics_stale_asset_transfer AFTER UPDATE ON asset
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION metrics_stale_asset_transfer();

CREATE FUNCTION metrics_stale_pin() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO metrics_stale (asset_id, benchmark_id)
        SELECT a.asset_id, sa.benchmark_id FROM new_rows p
        JOIN asset a ON a.collection_id = p.collection_id
        JOIN stig_asset_map sa ON sa.asset_id = a.asset_id AND sa.benchmark_id = p.benchmark_id
        ON CONFLICT DO NOTHING;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO metrics_stale (asset_id, benchmark_id)
        SELECT a.asset_id, sa.benchmark_id FROM old_rows p
        JOIN asset a ON a.collection_id = p.collection_id
        JOIN stig_asset_map sa ON sa.asset_id = a.asset_id AND sa.benchmark_id = p.benchmark_id
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER metrics_stale_pin_insert AFTER INSERT ON collection_rev_map
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION metrics_stale_pin();
CREATE TRIGGER metrics_stale_pin_update AFTER UPDATE ON collection_rev_map
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION metrics_stale_pin();
CREATE TRIGGER metrics_stale_pin_delete AFTER DELETE ON collection_rev_map
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION metrics_stale_pin();

-- current_rev and rev_group_rule_map rows name the revision whose assignments go stale
CREATE FUNCTION metrics_stale_revision() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO metrics_stale_rev (rev_id)
        SELECT DISTINCT rev_id FROM new_rows ON CONFLICT DO NOTHING;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO metrics_stale_rev (rev_id)
        SELECT DISTINCT rev_id FROM old_rows ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER metrics_stale_current_rev_insert AFTER INSERT ON current_rev
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION metrics_stale_revision();
CREATE TRIGGER metrics_stale_current_rev_update AFTER UPDATE ON current_rev
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION metrics_stale_revision();
CREATE TRIGGER metrics_stale_rule_insert AFTER INSERT ON rev_group_rule_map
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION metrics_stale_revision();
CREATE TRIGGER metrics_stale_rule_update AFTER UPDATE ON rev_group_rule_map
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION metrics_stale_revision();
CREATE TRIGGER metrics_stale_rule_delete AFTER DELETE ON rev_group_rule_map
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION metrics_stale_revision();

-- a rule's review key moving changes what every revision holding the rule matches
CREATE FUNCTION metrics_stale_review_key() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO metrics_stale_rev (rev_id)
        SELECT DISTINCT rgr.rev_id FROM new_rows k
        JOIN rev_group_rule_map rgr ON rgr.rule_id = k.rule_id ON CONFLICT DO NOTHING;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO metrics_stale_rev (rev_id)
        SELECT DISTINCT rgr.rev_id FROM old_rows k
        JOIN rev_group_rule_map rgr ON rgr.rule_id = k.rule_id ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER metrics_stale_review_key_insert AFTER INSERT ON rule_version_check_digest
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION metrics_stale_review_key();
CREATE TRIGGER metrics_stale_review_key_update AFTER UPDATE ON rule_version_check_digest
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION metrics_stale_review_key();
CREATE TRIGGER metrics_stale_review_key_delete AFTER DELETE ON rule_version_check_digest
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION metrics_stale_review_key();

-- existing installations are counted on the first start after this migration
INSERT INTO metrics_stale (asset_id, benchmark_id)
SELECT DISTINCT asset_id, '*' FROM stig_asset_map;
