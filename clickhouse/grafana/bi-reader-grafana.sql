-- Lets the read-only `bi_reader` (clickhouse/bi-reader.sql) run Grafana's queries. The ClickHouse
-- data source's client (clickhouse-go) sends max_execution_time with every query, which a user
-- with readonly = 1 may not change unless the setting is CHANGEABLE_IN_READONLY (needs the
-- server's access_control_improvements.settings_constraints_replace_previous, on in the official
-- image's config.xml). Still read-only: no writes, no other setting.
-- docker-compose.yml runs it once, on an empty volume, right after bi-reader.sql.
ALTER USER bi_reader SETTINGS readonly = 1, max_execution_time CHANGEABLE_IN_READONLY;
