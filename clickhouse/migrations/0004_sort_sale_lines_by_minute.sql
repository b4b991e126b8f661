-- Rebuilds sale_lines sorted by (branch, minute, sale, line) instead of (branch, day, sale, line).
--
-- Why: after each block the aggregator rewrites the rollup cells (branch × minute) the block
-- touched from `sale_lines FINAL`. Sorted by day, that read covered every row of the branches'
-- day, so each flush grew slower as the day filled (measured with chdb: 2.3 s of CPU per
-- flush after one hour at 5,000 sales/s, 0.29 s sorted by minute). Sorted by minute, it reads
-- the touched minutes only, and BI queries over a time range read that range.
--
-- Deduplication is unchanged in effect: a replayed copy of a line has the same branch,
-- occurred_at, sale id and line number, so the same sorting key.
--
-- A sorting key cannot be altered in place, so: a new table, a copy, an atomic swap (EXCHANGE),
-- the old rows dropped. Safe to run again from any point: a rerun drops what an interrupted run
-- left in sale_lines_rebuild (a partial copy, or after the swap the old rows, all of which
-- sale_lines then holds) and rebuilds from sale_lines. Stop the aggregator while it runs (in
-- embedded mode it applies it itself at start-up): rows inserted during the copy would be left
-- in the old table.
DROP TABLE IF EXISTS sale_lines_rebuild;
-- The same columns (AS sale_lines), another sorting key.
CREATE TABLE sale_lines_rebuild AS sale_lines
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (branch_id, toStartOfMinute(occurred_at), sale_id, line_no)
SETTINGS non_replicated_deduplication_window = 1000;

INSERT INTO sale_lines_rebuild SELECT * FROM sale_lines;
EXCHANGE TABLES sale_lines AND sale_lines_rebuild;
DROP TABLE sale_lines_rebuild;
