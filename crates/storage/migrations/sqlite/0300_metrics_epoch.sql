-- Metrics are counted on read and the server keeps the last count. This counter moves in the
-- same transaction as every change that can alter a metric or what a caller may see of one
-- (reviews, assignments, pins, revisions, assets, labels, grants, ACLs, group membership), so a
-- kept count is served only while the counter has not moved since it was read before counting.
CREATE TABLE metrics_epoch (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n  INTEGER NOT NULL
);
INSERT INTO metrics_epoch (id, n) VALUES (1, 0);
CREATE TRIGGER metrics_epoch_review_insert AFTER INSERT ON review
BEGIN UPDATE metrics_epoch SET n = n + 1; END;
CREATE TRIGGER metrics_epoch_review_update AFTER UPDATE ON review
BEGIN UPDATE metrics_epoch SET n = n + 1; END;
CREATE TRIGGER metrics_epoch_review_delete AFTER DELETE ON review
BEGIN UPDATE metrics_epoch SET n = n + 1; END;
CREATE TRIGGER metrics_epoch_stig_asset_map_insert AFTER INSERT ON stig_asset_map
BEGIN UPDATE metrics_epoch SET n = n + 1; END;
CREATE TRIGGER metrics_epoch_stig_asset_map_update AFTER UPDATE ON stig_asset_map
BEGIN UPDATE metrics_epoch SET n = n + 1; END;
CREATE TRIGGER metrics_epoch_stig_asset_map_delete AFTER DELETE ON stig_asset_map
BEGIN UPDATE metrics_epoch SET n = n + 1; END;
CREATE TRIGGER metrics_epoch_collection_rev_map_insert AFTER INSERT ON collection_rev_map
BEGIN UPDATE metrics_epoch SET n = n + 1; END;
CREATE TRIGGER metrics_epoch_collection_rev_map_update AFTER UPDATE ON collection_rev_map
BEGIN UPDATE metrics_epoch SET n = n + 1; END;
CREATE TRIGGER metrics_epoch_collection_rev_map_delete AFTER DELETE ON collection_rev_map
BEGIN UPDATE metrics_epoch SET n = n + 1; END;
CREATE TRIGGER metrics_epoch_current_rev_insert AFTER INSERT ON current_rev
BEGIN UPDATE metrics_epoch SET n = n + 1; END;
CREATE TRIGGER metrics_epoch_current_rev_update AFTER UPDATE ON current_rev
BEGIN UPDATE metrics_epoch SET n = n + 1; END;
CREATE TRIGGER metrics_epoch_current_rev_delete AFTER DELETE ON current_rev
BEGIN UPDATE metrics_epoch SET n = n + 1; END;
CREATE TRIGGER metrics_epoch_revision_insert AFTER INSERT ON revision
BEGIN UPDATE metrics_epoch SET n = n + 1; END;
CREATE TRIGGER metrics_epoch_revision_update AFTER UPDATE ON revision
BEGIN UPDATE metrics_epoch SET n = n + 1; END;
CREATE TRIGGER metrics_epoch_revision_delete AFTER DELETE ON revision
BEGIN UPDATE metrics_epoch SET n = n + 1; END;
CREATE TRIGGER metrics_epoch_rev_group_rule_map_insert AFTER INSERT ON rev_group_rule_map
BEGIN UPDATE metrics_epoch SET n = n + 1; END;
CREATE TRIGGER metrics_epoch_rev_group_rule_map_update AFTER UPDATE ON rev_group_rule_map
BEGIN UPDATE metrics_epoch SET n = n + 1; END;
CREATE TRIGGER metrics_epoch_rev_group_rule_map_delete AFTER DELETE ON rev_group_rule_map
BEGIN UPDATE metrics_epoch SET n = n + 1; END;
CREATE TRIGGER metrics_epoch_rule_version_check_digest_insert AFTER INSERT ON rule_version_check_digest
BEGIN UPDATE metrics_epoch SET n = n + 1; END;
CREATE TRIGGER metrics_epoch_rule_version_check_digest_update AFTER UPDATE ON rule_version_check_digest
BEGIN UPDATE metrics_epoch SET n = n + 1; END;
CREATE TRIGGER metrics_epoch_rule_version_check_digest_delete AFTER DELETE ON rule_version_check_digest
BEGIN UPDATE metrics_epoch SET n = n + 1; END;
CREATE TRIGGER metrics_epoch_asset_insert AFTER INSERT ON asset
BEGIN UPDATE metrics_epoch SET n = n + 1; END;
CREATE TRIGGER metrics_epoch_asset_update AFTER UPDATE ON asset
BEGIN UPDATE metrics_epoch SET n = n + 1; END;
CREATE TRIGGER metrics_epoch_asset_delete AFTER DELETE ON asset
BEGIN UPDATE metrics_epoch SET n = n + 1; END;
CREATE TRIGGER metrics_epoch_collection_insert AFTER INSERT ON collection
BEGIN UPDATE metrics_epoch SET n = n + 1; END;
CREATE TRIGGER metrics_epoch_collection_update AFTER UPDATE ON collection
BEGIN UPDATE metrics_epoch SET n = n + 1; END;
CREATE TRIGGER metrics_epoch_collection_delete AFTER DELETE ON collection
BEGIN UPDATE metrics_epoch SET n = n + 1; END;
CREATE TRIGGER metrics_epoch_collection_label_insert AFTER INSERT ON collection_label
BEGIN UPDATE metrics_epoch SET n = n + 1; END;
CREATE TRIGGER metrics_epoch_collection_label_update AFTER UPDATE ON collection_label
BEGIN UPDATE metrics_epoch SET n = n + 1; END;
CREATE TRIGGER metrics_epoch_collection_label_delete AFTER DELETE ON collection_label
BEGIN UPDATE metrics_epoch SET n = n + 1; END;
CREATE TRIGGER metrics_epoch_collection_label_asset_map_insert AFTER INSERT ON collection_label_asset_map
BEGIN UPDATE metrics_epoch SET n = n + 1; END;
CREATE TRIGGER metrics_epoch_collection_label_asset_map_update AFTER UPDATE ON collection_label_asset_map
BEGIN UPDATE metrics_epoch SET n = n + 1; END;
CREATE TRIGGER metrics_epoch_collection_label_asset_map_delete AFTER DELETE ON collection_label_asset_map
BEGIN UPDATE metrics_epoch SET n = n + 1; END;
CREATE TRIGGER metrics_epoch_collection_grant_insert AFTER INSERT ON collection_grant
BEGIN UPDATE metrics_epoch SET n = n + 1; END;
CREATE TRIGGER metrics_epoch_collection_grant_update AFTER UPDATE ON collection_grant
BEGIN UPDATE metrics_epoch SET n = n + 1; END;
CREATE TRIGGER metrics_epoch_collection_grant_delete AFTER DELETE ON collection_grant
BEGIN UPDATE metrics_epoch SET n = n + 1; END;
CREATE TRIGGER metrics_epoch_collection_grant_acl_insert AFTER INSERT ON collection_grant_acl
BEGIN UPDATE metrics_epoch SET n = n + 1; END;
CREATE TRIGGER metrics_epoch_collection_grant_acl_update AFTER UPDATE ON collection_grant_acl
BEGIN UPDATE metrics_epoch SET n = n + 1; END;
CREATE TRIGGER metrics_epoch_collection_grant_acl_delete AFTER DELETE ON collection_grant_acl
BEGIN UPDATE metrics_epoch SET n = n + 1; END;
CREATE TRIGGER metrics_epoch_user_group_user_map_insert AFTER INSERT ON user_group_user_map
BEGIN UPDATE metrics_epoch SET n = n + 1; END;
CREATE TRIGGER metrics_epoch_user_group_user_map_update AFTER UPDATE ON user_group_user_map
BEGIN UPDATE metrics_epoch SET n = n + 1; END;
CREATE TRIGGER metrics_epoch_user_group_user_map_delete AFTER DELETE ON user_group_user_map
BEGIN UPDATE metrics_epoch SET n = n + 1; END;
