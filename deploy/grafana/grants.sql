-- deploy/grafana/grants.sql - the read-only role Grafana logs in as.
--
--   psql -v ON_ERROR_STOP=1 -v reader=hugetask_reader \
--        -v reader_password=SECRET -f deploy/grafana/grants.sql "$DATABASE_URL"
--
-- Creates the role when it is missing, sets its password, and grants it
-- SELECT on the dashboard views (ht_*) and on nothing else: a view reads
-- the tasks table with its owner's rights, so the reader sees the counts
-- the views give and never a task's input or result.  Safe to run again;
-- run it after every migration (docker-compose runs it on each `up` of the
-- monitoring profile) so that views added later are granted too.
-- tests/deploy runs every panel of the dashboard as a role made by this
-- file, so a panel that reads anything but the views fails the test.

SELECT format('CREATE ROLE %I LOGIN', :'reader')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'reader') \gexec

ALTER ROLE :"reader" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE
      PASSWORD :'reader_password';

SELECT format('GRANT CONNECT ON DATABASE %I TO %I', current_database(),
              :'reader') \gexec
GRANT USAGE ON SCHEMA public TO :"reader";

SELECT format('GRANT SELECT ON %I.%I TO %I', schemaname, viewname, :'reader')
  FROM pg_views
 WHERE schemaname = 'public' AND viewname LIKE 'ht\_%'
 ORDER BY viewname \gexec
