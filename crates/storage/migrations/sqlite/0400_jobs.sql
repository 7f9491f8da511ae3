-- Jobs and tasks: the built-in tasks and system jobs (ids below 100), a UUID for each run as
-- the API names runs, and when each schedule last fired so the scheduler fires it once.
ALTER TABLE job_run ADD COLUMN run_uuid TEXT;
CREATE UNIQUE INDEX job_run_uuid ON job_run (run_uuid);
ALTER TABLE job_event ADD COLUMN last_fired INTEGER;

INSERT INTO task (task_id, name, description, command, collection_config) VALUES
    (1, 'WipeDeletedObjects', 'Permanently removes deleted Collections and Assets with their Reviews', 'wipe-deleted-objects', NULL),
    (2, 'DeleteUnmappedReviews', 'Deletes Reviews that match no Rule of any installed Revision', 'delete-unmapped-reviews', NULL),
    (3, 'DeleteUnmappedAssetReviews', 'Deletes Reviews whose Rule is in no STIG assigned to their Asset', 'delete-unmapped-asset-reviews', NULL),
    (4, 'AnalyzeReviewTables', 'Refreshes the database statistics of the Review tables', 'analyze-review-tables', NULL),
    (5, 'ReviewAging', 'Applies the Review aging rules of each Collection', 'review-aging', '#/components/schemas/ReviewAgingConfig');

INSERT INTO job (job_id, name, description, created) VALUES
    (1, 'Cleanup Database', 'Removes deleted objects and refreshes statistics', 1735689600),
    (2, 'Delete Unmapped Reviews', 'Deletes Reviews that match no installed Rule', 1735689600),
    (3, 'Delete Unmapped Asset Reviews', 'Deletes Reviews of Rules no longer assigned to their Asset', 1735689600),
    (4, 'Update Aged Reviews', 'Applies each Collection''s Review aging rules', 1735689600);

INSERT INTO job_task_map (job_id, task_id, ordinal) VALUES
    (1, 1, 1), (1, 4, 2), (2, 2, 1), (2, 4, 2), (3, 3, 1), (3, 4, 2), (4, 5, 1);

INSERT INTO job_event (job_id, type, starts, interval_value, interval_field, enabled) VALUES
    (1, 'recurring', 1735689600, 1, 'day', 0),
    (4, 'recurring', 1735689600, 1, 'day', 0);
