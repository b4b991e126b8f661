-- Dashboard rollup: per minute × branch × category × product. Replay-safe by construction:
-- each flush recomputes the ABSOLUTE totals of the (branch, minute) cells it touched from the
-- deduplicated raw rows (sale_lines FINAL) and writes them with a newer version; a replayed
-- batch recomputes the same absolute values. (A SummingMergeTree fed with deltas would add a
-- replayed batch twice.) Read it with FINAL, or through sales_minute_final (0003).
CREATE TABLE IF NOT EXISTS sales_minute
(
    minute      DateTime('UTC'),
    branch_id   LowCardinality(String),
    category    LowCardinality(String),
    product_id  String,
    lines       UInt64,
    sales       UInt64,
    net_units   Int64,
    net_revenue Decimal(38, 4),
    version     UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(minute)
ORDER BY (branch_id, minute, category, product_id);
