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
CREATE TABLE sale_lines_rebuild
(
    sale_id          String,
    line_no          UInt16,
    kind             Enum8('sale' = 1, 'return' = 2),
    sign             Int8,
    original_sale_id String,
    branch_id        LowCardinality(String),
    register_id      String,
    cashier_id       String,
    customer_id      String,
    buyer_country    LowCardinality(String),
    seller_country   LowCardinality(String),
    payment_method   LowCardinality(String),
    currency         LowCardinality(String),
    product_id       String,
    product_name     String,
    category         LowCardinality(String),
    brand            LowCardinality(String),
    quantity         UInt32,
    unit_price       Decimal(18, 4),
    discount         Decimal(18, 4),
    amount           Decimal(18, 4),
    net_quantity     Int64,
    net_amount       Decimal(18, 4),
    occurred_at      DateTime64(3, 'UTC'),
    received_at      DateTime64(3, 'UTC'),
    stream_seq       UInt64,
    version          UInt64,
    inserted_at      DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (branch_id, toStartOfMinute(occurred_at), sale_id, line_no)
SETTINGS non_replicated_deduplication_window = 1000;

INSERT INTO sale_lines_rebuild SELECT * FROM sale_lines;
EXCHANGE TABLES sale_lines AND sale_lines_rebuild;
DROP TABLE sale_lines_rebuild;
