-- Capping a review's history keeps its newest entries: with history indexed by review alone,
-- the planner found "the newest entries of this review" by walking the whole table backwards
-- from the newest entry (seconds at millions of entries). Indexed by review and entry, it is
-- one short range scan.
DROP INDEX review_history_review;
CREATE INDEX review_history_review ON review_history (review_id, history_id);
