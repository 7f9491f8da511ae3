-- Application data round trip. STIG Manager gives rows of these tables a surrogate id that
-- Stigward, keying them by their content, does not need; the ids are kept so that an export
-- lists the rows an import was given. Imported rows keep the file's id, new rows take the next.
-- SQLite cannot add an autoincrementing column, so a trigger numbers rows inserted without one.

ALTER TABLE check_content ADD COLUMN cc_id INTEGER;
UPDATE check_content SET cc_id = rowid;
CREATE UNIQUE INDEX check_content_cc_id ON check_content (cc_id);
CREATE TRIGGER check_content_cc_id AFTER INSERT ON check_content
WHEN NEW.cc_id IS NULL
BEGIN
    UPDATE check_content
    SET cc_id = (SELECT COALESCE(MAX(cc_id), 0) + 1 FROM check_content)
    WHERE rowid = NEW.rowid;
END;

ALTER TABLE fix_text ADD COLUMN ft_id INTEGER;
UPDATE fix_text SET ft_id = rowid;
CREATE UNIQUE INDEX fix_text_ft_id ON fix_text (ft_id);
CREATE TRIGGER fix_text_ft_id AFTER INSERT ON fix_text
WHEN NEW.ft_id IS NULL
BEGIN
    UPDATE fix_text
    SET ft_id = (SELECT COALESCE(MAX(ft_id), 0) + 1 FROM fix_text)
    WHERE rowid = NEW.rowid;
END;

ALTER TABLE rev_group_rule_cci_map ADD COLUMN rgrcc_id INTEGER;
UPDATE rev_group_rule_cci_map SET rgrcc_id = rowid;
CREATE UNIQUE INDEX rev_group_rule_cci_map_rgrcc_id ON rev_group_rule_cci_map (rgrcc_id);
CREATE TRIGGER rev_group_rule_cci_map_rgrcc_id AFTER INSERT ON rev_group_rule_cci_map
WHEN NEW.rgrcc_id IS NULL
BEGIN
    UPDATE rev_group_rule_cci_map
    SET rgrcc_id = (SELECT COALESCE(MAX(rgrcc_id), 0) + 1 FROM rev_group_rule_cci_map)
    WHERE rowid = NEW.rowid;
END;

ALTER TABLE collection_label_asset_map ADD COLUMN cla_id INTEGER;
UPDATE collection_label_asset_map SET cla_id = rowid;
CREATE UNIQUE INDEX collection_label_asset_map_cla_id ON collection_label_asset_map (cla_id);
CREATE TRIGGER collection_label_asset_map_cla_id AFTER INSERT ON collection_label_asset_map
WHEN NEW.cla_id IS NULL
BEGIN
    UPDATE collection_label_asset_map
    SET cla_id = (SELECT COALESCE(MAX(cla_id), 0) + 1 FROM collection_label_asset_map)
    WHERE rowid = NEW.rowid;
END;

ALTER TABLE user_group_user_map ADD COLUMN ugum_id INTEGER;
UPDATE user_group_user_map SET ugum_id = rowid;
CREATE UNIQUE INDEX user_group_user_map_ugum_id ON user_group_user_map (ugum_id);
CREATE TRIGGER user_group_user_map_ugum_id AFTER INSERT ON user_group_user_map
WHEN NEW.ugum_id IS NULL
BEGIN
    UPDATE user_group_user_map
    SET ugum_id = (SELECT COALESCE(MAX(ugum_id), 0) + 1 FROM user_group_user_map)
    WHERE rowid = NEW.rowid;
END;

ALTER TABLE collection_rev_map ADD COLUMN cr_id INTEGER;
UPDATE collection_rev_map SET cr_id = rowid;
CREATE UNIQUE INDEX collection_rev_map_cr_id ON collection_rev_map (cr_id);
CREATE TRIGGER collection_rev_map_cr_id AFTER INSERT ON collection_rev_map
WHEN NEW.cr_id IS NULL
BEGIN
    UPDATE collection_rev_map
    SET cr_id = (SELECT COALESCE(MAX(cr_id), 0) + 1 FROM collection_rev_map)
    WHERE rowid = NEW.rowid;
END;

-- upstream's revision flag; revisions Stigward imports are active
ALTER TABLE revision ADD COLUMN active INTEGER DEFAULT 1;

-- default_rev is a view here (what decides each collection's default revision); upstream
-- materialises it with a row id, kept per collection and benchmark for the export
CREATE TABLE default_rev_id (
    collection_id INTEGER NOT NULL,
    benchmark_id  TEXT NOT NULL,
    vd_id         INTEGER NOT NULL UNIQUE,
    PRIMARY KEY (collection_id, benchmark_id)
);

-- Text columns Stigward requires where upstream allows NULL hold '' for an imported NULL and
-- remember that it was one, until the column is written again.
ALTER TABLE rev_group_rule_map ADD COLUMN title_null INTEGER NOT NULL DEFAULT 0;
ALTER TABLE rev_group_rule_map ADD COLUMN severity_null INTEGER NOT NULL DEFAULT 0;
ALTER TABLE review ADD COLUMN detail_null INTEGER NOT NULL DEFAULT 0;
ALTER TABLE review ADD COLUMN comment_null INTEGER NOT NULL DEFAULT 0;
CREATE TRIGGER review_detail_written AFTER UPDATE OF detail ON review WHEN NEW.detail_null = 1
BEGIN
    UPDATE review SET detail_null = 0 WHERE review_id = NEW.review_id;
END;
CREATE TRIGGER review_comment_written AFTER UPDATE OF comment ON review WHEN NEW.comment_null = 1
BEGIN
    UPDATE review SET comment_null = 0 WHERE review_id = NEW.review_id;
END;
