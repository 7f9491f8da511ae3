-- A collection's task output is read by collection (getCollectionTaskOutput).
CREATE INDEX task_output_collection ON task_output (collection_id, seq);
