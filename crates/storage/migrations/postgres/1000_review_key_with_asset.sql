-- Reviews are looked up by asset and review key (version, check digest). PostgreSQL's planner
-- multiplies the selectivities of version and check_digest as if they were independent, so it
-- takes (version, check_digest) for nearly unique and used review_key for those lookups, then
-- filtered on the asset: walking one entry per asset of the installation for every rule. With
-- the asset in the key's index as well, whichever index the planner takes finds the one row.
DROP INDEX review_key;
CREATE INDEX review_key ON review (version, check_digest, asset_id);
