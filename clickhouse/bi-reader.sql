-- Read-only user for BI tools on a ClickHouse server (not a migration: chdb has no users, and
-- the password is the operator's). Run once as an admin, with your own password:
--   clickhouse-client --query "$(sed 's/change-me/<password>/' clickhouse/bi-reader.sql)"
-- docker-compose runs it at first start (see docker-compose.yml).
CREATE USER IF NOT EXISTS bi_reader IDENTIFIED WITH sha256_password BY 'change-me'
    SETTINGS readonly = 1;
GRANT SELECT ON tally.* TO bi_reader;
