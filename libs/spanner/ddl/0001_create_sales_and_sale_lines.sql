-- Sales and their lines, as the sales stream carries them (see @tally/contracts `Sale`), the
-- Spanner twin of the Postgres tables `sales` and `sale_lines`.
--
-- Keys avoid write hotspots. Client sale ids are often sequential per branch (b1-000123,
-- b1-000124, ...), so keyed by SaleId alone every branch would append to the end of its own key
-- range and one split would take the writes. Shard = (first 8 bytes of sha256(SaleId)) mod 1024,
-- computed by the application (`saleShard` in libs/spanner/src/shard.ts), leads the key and
-- spreads consecutive ids over 1,024 ranges. It is part of the key: never change the function
-- or the modulus without rewriting every row.
--
-- Money is NUMERIC (exact, 38 digits with 9 after the point; the contract needs 11 + 4).
-- NetTotal and NetAmount are SIGNED as in Postgres: a return is stored negative, so
-- SUM(NetTotal) over any rows is the revenue. String lengths are the contract's limits; a longer
-- value can only come from a bug and is refused (FAILED_PRECONDITION, a permanent error).
--
-- No CHECK constraints, unlike Postgres: every row comes through the contract validator, and the
-- emulator evaluates checks in time quadratic in the rows of a commit (one check on 3,200 rows:
-- 5.5 s instead of 0.15 s), which would make local runs and tests of 1,000-sale commits crawl.
CREATE TABLE IF NOT EXISTS Sales (
  Shard INT64 NOT NULL,
  SaleId STRING(64) NOT NULL,
  Kind STRING(6) NOT NULL,
  -- For returns: the sale it reverses (which may not be stored yet).
  OriginalSaleId STRING(64),
  BranchId STRING(64) NOT NULL,
  RegisterId STRING(64),
  CashierId STRING(64),
  CustomerId STRING(64),
  BuyerCountry STRING(8),
  SellerCountry STRING(8),
  PaymentMethod STRING(32),
  OccurredAt TIMESTAMP NOT NULL,
  ReceivedAt TIMESTAMP NOT NULL,
  Currency STRING(3) NOT NULL,
  -- Sum of the lines' NetAmount; negative for a return.
  NetTotal NUMERIC NOT NULL,
  LineCount INT64 NOT NULL,
  -- Sequence of the stream message the sale came in, and the request id of the HTTP call.
  StreamSeq INT64 NOT NULL,
  RequestId STRING(MAX),
  -- Commit timestamp of the write that (last) stored the row.
  StoredAt TIMESTAMP NOT NULL OPTIONS (allow_commit_timestamp = true),
) PRIMARY KEY (Shard, SaleId);

-- Lines live inside their sale's split (interleaved): a sale and its lines are written and read
-- together, and deleting a sale deletes its lines.
CREATE TABLE IF NOT EXISTS SaleLines (
  Shard INT64 NOT NULL,
  SaleId STRING(64) NOT NULL,
  LineNo INT64 NOT NULL,
  ProductId STRING(64) NOT NULL,
  ProductName STRING(200),
  Category STRING(64) NOT NULL,
  Brand STRING(64),
  Quantity INT64 NOT NULL,
  UnitPrice NUMERIC NOT NULL,
  Discount NUMERIC NOT NULL,
  -- Quantity x UnitPrice - Discount (or the source's own amount); negative for a return.
  NetAmount NUMERIC NOT NULL,
) PRIMARY KEY (Shard, SaleId, LineNo),
  INTERLEAVE IN PARENT Sales ON DELETE CASCADE;

-- The reconciliation scan: one branch, one day (dailyTotals, saleIds). Leading with BranchId
-- spreads the index writes across branches; an index led by OccurredAt would send every new
-- sale to the same end of one key range (a timestamp hotspot). STORING NetTotal makes the daily
-- sums an index-only scan. Each index costs one extra mutation per sale written.
CREATE INDEX IF NOT EXISTS SalesByBranchOccurred ON Sales (BranchId, OccurredAt) STORING (NetTotal);
