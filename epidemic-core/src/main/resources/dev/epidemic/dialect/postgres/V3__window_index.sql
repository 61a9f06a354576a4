-- Epidemic's own schema, version 3: the window index carries the change id (and the table) too, so the
-- order of a read window, (highest id of each transaction, id), is computed from the index alone, and the
-- wide rows are fetched in that order afterwards instead of being sorted themselves.
DROP INDEX IF EXISTS ${schema}.change_log_txid_idx;
CREATE INDEX change_log_txid_id_idx ON ${schema}.change_log (txid, id) INCLUDE (table_id);
