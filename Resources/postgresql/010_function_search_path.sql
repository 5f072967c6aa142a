-- Reading Room store, PostgreSQL backend, schema version 10: the trigger
-- functions act on this store's tables whoever fires them.
--
-- The functions of 003, 006 and 009 name their tables without a schema, and
-- PL/pgSQL resolves those names with the search_path of the session that
-- fires the trigger. The plugin's sessions have the store's schema first,
-- but another session does not: an administrator's psql deleting a study
-- from <schema>.studies with the default search_path failed ("relation
-- study_count_deltas does not exist"), and a session whose search_path
-- started with another store's schema in the same database (two Reading
-- Rooms, a test and a production schema) wrote the count, the search terms'
-- keys or the AI and report states into that other store's tables. Each
-- function now carries its own search_path: the store's schema (the one
-- its tables were created in, current_schema() of the session that runs
-- this migration: the plugin's), then pg_temp (never a temporary table of
-- the caller's before the store's). The cost: about 1 µs more a call
-- (PostgreSQL 15 here: 100,000 calls of rr_json_array_length 215 ms instead
-- of 112 ms), next to the row writes that fire the triggers.
DO $$
DECLARE
  f text;
BEGIN
  FOREACH f IN ARRAY ARRAY[
    'rr_study_ai_refresh()', 'rr_json_array_length(text)',
    'rr_report_versions_frozen()', 'rr_reports_kept()', 'rr_study_report_sync()', 'rr_report_acks_study()',
    'rr_study_terms_keys()', 'rr_study_keys_sync()', 'rr_study_count_fold()', 'rr_study_count_inserted()',
    'rr_study_count_deleted()', 'rr_study_count_truncated()'
  ] LOOP
    EXECUTE format('ALTER FUNCTION %I.%s SET search_path = %I, pg_temp', current_schema(), f, current_schema());
  END LOOP;
END
$$;
