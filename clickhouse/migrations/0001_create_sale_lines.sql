-- Raw sale lines, denormalized: one row per line of every sale and return, as the stream
-- carries them. Money is Decimal(18, 4), exact. `net_*` are signed (returns negative), so
-- every report is a plain sum.
--
-- Replays cannot double count: the table is a ReplacingMergeTree keyed by the sorting key,
-- which ends with (sale_id, line_no); copies of a line that a replay inserted again collapse to
-- one, and every query reads the table with FINAL (or through the views of 0003), which
-- collapses copies not merged yet. `version` keeps the copy from the earliest stream message
-- (first write wins, as in Postgres). Exact resends of a failed block are also dropped at
-- insert time by their deduplication token (non_replicated_deduplication_window).
CREATE TABLE IF NOT EXISTS sale_lines
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
ORDER BY (branch_id, toDate(occurred_at), sale_id, line_no)
SETTINGS non_replicated_deduplication_window = 1000;
