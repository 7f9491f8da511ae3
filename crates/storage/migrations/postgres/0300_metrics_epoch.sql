-- Metrics are counted on read and the server keeps the last count. This counter moves in the
-- same transaction as every change that can alter a metric or what a caller may see of one
-- (reviews, assignments, pins, revisions, assets, labels, grants, ACLs, group membership), so a
-- kept count is served only while the counter has not moved since it was read before counting.
-- One statement-level trigger per table; writers holding the row until commit is the price of
-- an exact cache (SQLite serializes writers anyway).
CREATE TABLE metrics_epoch (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    n  BIGINT NOT NULL
);
INSERT INTO metrics_epoch (id, n) VALUES (1, 0);

CREATE FUNCTION metrics_epoch_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE metrics_epoch SET n = n + 1;
    RETURN NULL;
END;
$$;
CREATE TRIGGER metrics_epoch_review AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON review
    FOR EACH STATEMENT EXECUTE FUNCTION metrics_epoch_bump();
CREATE TRIGGER metrics_epoch_stig_asset_map AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON stig_asset_map
    FOR EACH STATEMENT EXECUTE FUNCTION metrics_epoch_bump();
CREATE TRIGGER metrics_epoch_collection_rev_map AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON collection_rev_map
    FOR EACH STATEMENT EXECUTE FUNCTION metrics_epoch_bump();
CREATE TRIGGER metrics_epoch_current_rev AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON current_rev
    FOR EACH STATEMENT EXECUTE FUNCTION metrics_epoch_bump();
CREATE TRIGGER metrics_epoch_revision AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON revision
    FOR EACH STATEMENT EXECUTE FUNCTION metrics_epoch_bump();
CREATE TRIGGER metrics_epoch_rev_group_rule_map AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON rev_group_rule_map
    FOR EACH STATEMENT EXECUTE FUNCTION metrics_epoch_bump();
CREATE TRIGGER metrics_epoch_rule_version_check_digest AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON rule_version_check_digest
    FOR EACH STATEMENT EXECUTE FUNCTION metrics_epoch_bump();
CREATE TRIGGER metrics_epoch_asset AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON asset
    FOR EACH STATEMENT EXECUTE FUNCTION metrics_epoch_bump();
CREATE TRIGGER metrics_epoch_collection AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON collection
    FOR EACH STATEMENT EXECUTE FUNCTION metrics_epoch_bump();
CREATE TRIGGER metrics_epoch_collection_label AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON collection_label
    FOR EACH STATEMENT EXECUTE FUNCTION metrics_epoch_bump();
CREATE TRIGGER metrics_epoch_collection_label_asset_map AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON collection_label_asset_map
    FOR EACH STATEMENT EXECUTE FUNCTION metrics_epoch_bump();
CREATE TRIGGER metrics_epoch_collection_grant AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON collection_grant
    FOR EACH STATEMENT EXECUTE FUNCTION metrics_epoch_bump();
CREATE TRIGGER metrics_epoch_collection_grant_acl AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON collection_grant_acl
    FOR EACH STATEMENT EXECUTE FUNCTION metrics_epoch_bump();
CREATE TRIGGER metrics_epoch_user_group_user_map AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON user_group_user_map
    FOR EACH STATEMENT EXECUTE FUNCTION metrics_epoch_bump();
