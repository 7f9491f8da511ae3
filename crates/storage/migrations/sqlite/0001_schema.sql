-- Stigward schema, SQLite dialect. Keep in step with ../postgres/0001_schema.sql:
-- same tables, columns and meaning; only types and identity columns differ.
-- Times are epoch seconds (UTC); JSON documents are TEXT; digests are 32-byte SHA-256 BLOBs.
-- Flags are integers 0/1: the Any driver that serves both backends has no SQLite boolean.

CREATE TABLE user_data (
    user_id         INTEGER PRIMARY KEY,
    username        TEXT NOT NULL,
    created         INTEGER NOT NULL,
    last_access     INTEGER,
    last_claims     TEXT NOT NULL DEFAULT '{}',
    status          TEXT NOT NULL DEFAULT 'available' CHECK (status IN ('available', 'unavailable')),
    status_date     INTEGER NOT NULL,
    status_user_id  INTEGER REFERENCES user_data (user_id) ON DELETE SET NULL,
    web_preferences TEXT NOT NULL DEFAULT '{"darkMode":true,"lastWhatsNew":"2000-01-01"}',
    -- set for the accounts that system tasks act as; such users are hidden from user queries
    task_id         INTEGER
);
-- user names and group names are unique regardless of case
CREATE UNIQUE INDEX user_data_username ON user_data (lower(username));

CREATE TABLE user_group (
    user_group_id    INTEGER PRIMARY KEY,
    name             TEXT NOT NULL,
    description      TEXT,
    created_user_id  INTEGER REFERENCES user_data (user_id) ON DELETE SET NULL,
    created_date     INTEGER NOT NULL,
    modified_user_id INTEGER REFERENCES user_data (user_id) ON DELETE SET NULL,
    modified_date    INTEGER NOT NULL
);

CREATE UNIQUE INDEX user_group_name ON user_group (lower(name));

CREATE TABLE user_group_user_map (
    user_group_id INTEGER NOT NULL REFERENCES user_group (user_group_id) ON DELETE CASCADE,
    user_id       INTEGER NOT NULL REFERENCES user_data (user_id) ON DELETE CASCADE,
    PRIMARY KEY (user_group_id, user_id)
);
CREATE INDEX user_group_user_map_user ON user_group_user_map (user_id);

CREATE TABLE collection (
    collection_id   INTEGER PRIMARY KEY,
    name            TEXT NOT NULL,
    description     TEXT,
    settings        TEXT NOT NULL,
    metadata        TEXT NOT NULL DEFAULT '{}',
    created         INTEGER NOT NULL,
    created_user_id INTEGER REFERENCES user_data (user_id) ON DELETE SET NULL,
    state           TEXT NOT NULL DEFAULT 'enabled' CHECK (state IN ('enabled', 'disabled', 'cloning')),
    state_date      INTEGER,
    state_user_id   INTEGER REFERENCES user_data (user_id) ON DELETE SET NULL
);
-- deleted (disabled) collections free their name
CREATE UNIQUE INDEX collection_live_name ON collection (name) WHERE state <> 'disabled';

CREATE TABLE collection_grant (
    grant_id      INTEGER PRIMARY KEY,
    collection_id INTEGER NOT NULL REFERENCES collection (collection_id) ON DELETE CASCADE,
    user_id       INTEGER REFERENCES user_data (user_id) ON DELETE CASCADE,
    user_group_id INTEGER REFERENCES user_group (user_group_id) ON DELETE CASCADE,
    role_id       INTEGER NOT NULL CHECK (role_id BETWEEN 1 AND 4),
    CHECK ((user_id IS NULL) <> (user_group_id IS NULL))
);
CREATE UNIQUE INDEX collection_grant_user ON collection_grant (collection_id, user_id)
    WHERE user_id IS NOT NULL;
CREATE UNIQUE INDEX collection_grant_group ON collection_grant (collection_id, user_group_id)
    WHERE user_group_id IS NOT NULL;
CREATE INDEX collection_grant_by_user ON collection_grant (user_id);
CREATE INDEX collection_grant_by_group ON collection_grant (user_group_id);

CREATE TABLE collection_label (
    label_id      INTEGER PRIMARY KEY,
    collection_id INTEGER NOT NULL REFERENCES collection (collection_id) ON DELETE CASCADE,
    uuid          TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    description   TEXT,
    color         TEXT NOT NULL,
    UNIQUE (collection_id, name)
);

CREATE TABLE asset (
    asset_id      INTEGER PRIMARY KEY,
    collection_id INTEGER NOT NULL REFERENCES collection (collection_id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    fqdn          TEXT,
    ip            TEXT,
    mac           TEXT,
    description   TEXT,
    noncomputing  INTEGER NOT NULL DEFAULT 0,
    metadata      TEXT NOT NULL DEFAULT '{}',
    state         TEXT NOT NULL DEFAULT 'enabled' CHECK (state IN ('enabled', 'disabled')),
    state_date    INTEGER,
    state_user_id INTEGER REFERENCES user_data (user_id) ON DELETE SET NULL
);
CREATE UNIQUE INDEX asset_live_name ON asset (collection_id, name) WHERE state = 'enabled';

CREATE TABLE collection_label_asset_map (
    label_id INTEGER NOT NULL REFERENCES collection_label (label_id) ON DELETE CASCADE,
    asset_id INTEGER NOT NULL REFERENCES asset (asset_id) ON DELETE CASCADE,
    PRIMARY KEY (label_id, asset_id)
);
CREATE INDEX collection_label_asset_map_asset ON collection_label_asset_map (asset_id);

CREATE TABLE stig (
    benchmark_id TEXT PRIMARY KEY,
    title        TEXT NOT NULL
);

CREATE TABLE collection_grant_acl (
    acl_id           INTEGER PRIMARY KEY,
    grant_id         INTEGER NOT NULL REFERENCES collection_grant (grant_id) ON DELETE CASCADE,
    benchmark_id     TEXT REFERENCES stig (benchmark_id) ON DELETE CASCADE,
    asset_id         INTEGER REFERENCES asset (asset_id) ON DELETE CASCADE,
    label_id         INTEGER REFERENCES collection_label (label_id) ON DELETE CASCADE,
    access           TEXT NOT NULL CHECK (access IN ('r', 'rw', 'none')),
    modified_user_id INTEGER REFERENCES user_data (user_id) ON DELETE SET NULL,
    modified_date    INTEGER
);
CREATE INDEX collection_grant_acl_grant ON collection_grant_acl (grant_id);

CREATE TABLE revision (
    rev_id             TEXT PRIMARY KEY,
    benchmark_id       TEXT NOT NULL REFERENCES stig (benchmark_id) ON DELETE CASCADE,
    version            INTEGER NOT NULL,
    release            TEXT NOT NULL,
    -- numeric form of release ("0.3" sorts below "1") for ordering
    release_num        REAL NOT NULL,
    benchmark_date     TEXT,
    benchmark_date_sql TEXT,
    status             TEXT,
    status_date        TEXT,
    marking            TEXT,
    description        TEXT,
    group_count        INTEGER NOT NULL,
    check_count        INTEGER NOT NULL,
    fix_count          INTEGER NOT NULL,
    low_count          INTEGER NOT NULL,
    medium_count       INTEGER NOT NULL,
    high_count         INTEGER NOT NULL,
    imported           INTEGER NOT NULL,
    UNIQUE (benchmark_id, version, release)
);

-- the "latest" revision of each benchmark (drafts last, then version and release descending)
CREATE TABLE current_rev (
    benchmark_id TEXT PRIMARY KEY REFERENCES stig (benchmark_id) ON DELETE CASCADE,
    rev_id       TEXT NOT NULL REFERENCES revision (rev_id) ON DELETE CASCADE
);

CREATE TABLE check_content (
    digest  BLOB PRIMARY KEY,
    content TEXT NOT NULL
);

CREATE TABLE fix_text (
    digest BLOB PRIMARY KEY,
    text   TEXT NOT NULL
);

CREATE TABLE rev_group_rule_map (
    rgr_id                     INTEGER PRIMARY KEY,
    rev_id                     TEXT NOT NULL REFERENCES revision (rev_id) ON DELETE CASCADE,
    group_id                   TEXT NOT NULL,
    group_title                TEXT,
    group_severity             TEXT,
    -- numeric parts of group_id and rule_id, the order DISA content is listed in
    group_num                  INTEGER NOT NULL,
    rule_num                   INTEGER NOT NULL,
    rule_id                    TEXT NOT NULL,
    version                    TEXT NOT NULL,
    title                      TEXT NOT NULL,
    severity                   TEXT NOT NULL,
    weight                     TEXT,
    vuln_discussion            TEXT,
    false_positives            TEXT,
    false_negatives            TEXT,
    documentable               TEXT,
    mitigations                TEXT,
    severity_override_guidance TEXT,
    potential_impacts          TEXT,
    third_party_tools          TEXT,
    mitigation_control         TEXT,
    responsibility             TEXT,
    ia_controls                TEXT,
    check_system               TEXT,
    check_digest               BLOB NOT NULL REFERENCES check_content (digest),
    fixref                     TEXT,
    fix_digest                 BLOB NOT NULL REFERENCES fix_text (digest),
    UNIQUE (rev_id, group_id, rule_id)
);
CREATE INDEX rev_group_rule_map_rule ON rev_group_rule_map (rule_id);
CREATE INDEX rev_group_rule_map_key ON rev_group_rule_map (version, check_digest);

CREATE TABLE rev_group_rule_cci_map (
    rgr_id INTEGER NOT NULL REFERENCES rev_group_rule_map (rgr_id) ON DELETE CASCADE,
    cci    TEXT NOT NULL,
    PRIMARY KEY (rgr_id, cci)
);
CREATE INDEX rev_group_rule_cci_map_cci ON rev_group_rule_cci_map (cci);

-- the review key of every rule id: (version, check digest) in the newest-dated revision holding it
CREATE TABLE rule_version_check_digest (
    rule_id      TEXT PRIMARY KEY,
    version      TEXT NOT NULL,
    check_digest BLOB NOT NULL
);
CREATE INDEX rule_version_check_digest_key ON rule_version_check_digest (version, check_digest);

-- DISA's CCI list, loaded by the administrator like benchmarks
CREATE TABLE cci (
    cci          TEXT PRIMARY KEY,
    definition   TEXT NOT NULL,
    type         TEXT,
    status       TEXT,
    publish_date TEXT,
    contributor  TEXT,
    ap_acronym   TEXT,
    control      TEXT
);

CREATE TABLE cci_reference (
    cci      TEXT NOT NULL REFERENCES cci (cci) ON DELETE CASCADE,
    creator  TEXT NOT NULL,
    title    TEXT NOT NULL,
    version  TEXT NOT NULL,
    location TEXT,
    idx      TEXT NOT NULL
);
CREATE INDEX cci_reference_cci ON cci_reference (cci);

CREATE TABLE stig_asset_map (
    sa_id        INTEGER PRIMARY KEY,
    benchmark_id TEXT NOT NULL REFERENCES stig (benchmark_id) ON DELETE CASCADE,
    asset_id     INTEGER NOT NULL REFERENCES asset (asset_id) ON DELETE CASCADE,
    UNIQUE (asset_id, benchmark_id)
);
CREATE INDEX stig_asset_map_benchmark ON stig_asset_map (benchmark_id);

-- revision pins
CREATE TABLE collection_rev_map (
    collection_id INTEGER NOT NULL REFERENCES collection (collection_id) ON DELETE CASCADE,
    benchmark_id  TEXT NOT NULL REFERENCES stig (benchmark_id) ON DELETE CASCADE,
    rev_id        TEXT NOT NULL REFERENCES revision (rev_id) ON DELETE CASCADE,
    PRIMARY KEY (collection_id, benchmark_id)
);

-- the revision each collection assesses each benchmark against: its pin, else the current revision,
-- for every benchmark mapped to at least one enabled asset of the collection
CREATE VIEW default_rev AS
SELECT DISTINCT a.collection_id, sa.benchmark_id,
       COALESCE(p.rev_id, cr.rev_id) AS rev_id,
       CASE WHEN p.rev_id IS NULL THEN 0 ELSE 1 END AS revision_pinned
FROM stig_asset_map sa
JOIN asset a ON a.asset_id = sa.asset_id AND a.state = 'enabled'
JOIN current_rev cr ON cr.benchmark_id = sa.benchmark_id
LEFT JOIN collection_rev_map p
    ON p.collection_id = a.collection_id AND p.benchmark_id = sa.benchmark_id;

CREATE TABLE review (
    review_id      INTEGER PRIMARY KEY,
    asset_id       INTEGER NOT NULL REFERENCES asset (asset_id) ON DELETE CASCADE,
    -- the rule id last used to write the review; the key is (asset, version, check digest)
    rule_id        TEXT NOT NULL,
    version        TEXT NOT NULL,
    check_digest   BLOB NOT NULL,
    result_id      INTEGER NOT NULL CHECK (result_id BETWEEN 1 AND 9),
    detail         TEXT NOT NULL DEFAULT '',
    comment        TEXT NOT NULL DEFAULT '',
    auto_result    INTEGER NOT NULL DEFAULT 0,
    result_engine  TEXT,
    metadata       TEXT NOT NULL DEFAULT '{}',
    user_id        INTEGER REFERENCES user_data (user_id) ON DELETE SET NULL,
    ts             INTEGER NOT NULL,
    status_id      INTEGER NOT NULL DEFAULT 0 CHECK (status_id BETWEEN 0 AND 3),
    status_text    TEXT,
    status_user_id INTEGER REFERENCES user_data (user_id) ON DELETE SET NULL,
    status_ts      INTEGER NOT NULL,
    touch_ts       INTEGER NOT NULL,
    UNIQUE (asset_id, version, check_digest)
);
CREATE INDEX review_key ON review (version, check_digest);
CREATE INDEX review_rule ON review (rule_id);

CREATE TABLE review_history (
    history_id     INTEGER PRIMARY KEY,
    review_id      INTEGER NOT NULL REFERENCES review (review_id) ON DELETE CASCADE,
    rule_id        TEXT NOT NULL,
    result_id      INTEGER NOT NULL,
    detail         TEXT,
    comment        TEXT,
    auto_result    INTEGER NOT NULL DEFAULT 0,
    result_engine  TEXT,
    user_id        INTEGER,
    ts             INTEGER NOT NULL,
    status_id      INTEGER NOT NULL,
    status_text    TEXT,
    status_user_id INTEGER,
    status_ts      INTEGER NOT NULL,
    touch_ts       INTEGER NOT NULL
);
CREATE INDEX review_history_review ON review_history (review_id);
CREATE INDEX review_history_touch ON review_history (touch_ts);

CREATE TABLE review_aging_rule (
    aging_rule_id    INTEGER PRIMARY KEY,
    collection_id    INTEGER NOT NULL REFERENCES collection (collection_id) ON DELETE CASCADE,
    ordinal          INTEGER NOT NULL,
    title            TEXT,
    enabled          INTEGER NOT NULL,
    trigger_field    TEXT NOT NULL CHECK (trigger_field IN ('ts', 'statusTs', 'touchTs')),
    trigger_interval INTEGER NOT NULL,
    trigger_action   TEXT NOT NULL CHECK (trigger_action IN ('delete', 'update')),
    update_field     TEXT,
    update_value     TEXT,
    asset_id         INTEGER REFERENCES asset (asset_id) ON DELETE CASCADE,
    label_id         INTEGER REFERENCES collection_label (label_id) ON DELETE CASCADE,
    benchmark_id     TEXT REFERENCES stig (benchmark_id) ON DELETE CASCADE
);

CREATE TABLE task (
    task_id           INTEGER PRIMARY KEY,
    name              TEXT NOT NULL UNIQUE,
    description       TEXT,
    command           TEXT NOT NULL,
    collection_config TEXT
);

CREATE TABLE job (
    job_id          INTEGER PRIMARY KEY,
    name            TEXT NOT NULL UNIQUE,
    description     TEXT,
    created_user_id INTEGER REFERENCES user_data (user_id) ON DELETE SET NULL,
    created         INTEGER NOT NULL,
    updated_user_id INTEGER REFERENCES user_data (user_id) ON DELETE SET NULL,
    updated         INTEGER
);

CREATE TABLE job_task_map (
    job_id  INTEGER NOT NULL REFERENCES job (job_id) ON DELETE CASCADE,
    task_id INTEGER NOT NULL REFERENCES task (task_id) ON DELETE CASCADE,
    ordinal INTEGER NOT NULL,
    PRIMARY KEY (job_id, task_id)
);

CREATE TABLE job_event (
    event_id       INTEGER PRIMARY KEY,
    job_id         INTEGER NOT NULL UNIQUE REFERENCES job (job_id) ON DELETE CASCADE,
    type           TEXT NOT NULL CHECK (type IN ('once', 'recurring')),
    starts         INTEGER NOT NULL,
    ends           INTEGER,
    interval_value INTEGER,
    interval_field TEXT,
    enabled        INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE job_run (
    run_id  INTEGER PRIMARY KEY,
    job_id  INTEGER NOT NULL REFERENCES job (job_id) ON DELETE CASCADE,
    state   TEXT NOT NULL,
    created INTEGER NOT NULL,
    updated INTEGER NOT NULL
);

CREATE TABLE task_output (
    seq           INTEGER PRIMARY KEY,
    run_id        INTEGER NOT NULL REFERENCES job_run (run_id) ON DELETE CASCADE,
    ts            INTEGER NOT NULL,
    task_id       INTEGER REFERENCES task (task_id) ON DELETE SET NULL,
    type          TEXT NOT NULL,
    message       TEXT NOT NULL,
    collection_id INTEGER
);
CREATE INDEX task_output_run ON task_output (run_id);
