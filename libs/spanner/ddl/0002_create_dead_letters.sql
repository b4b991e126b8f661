-- Messages the Spanner sink could not store, with why: the twin of the Postgres table
-- `dead_letters`. The same message also goes to the dead-letter stream, which keeps the bytes
-- for replay; this table is for people and dashboards. One row per (sink, stream, sequence,
-- sale): recording the same dead letter twice keeps the first.
--
-- Every column is unbounded (STRING(MAX)): this table holds what broke the rules, so it must
-- not refuse a sale id that is too long. SaleId is '' when the whole message was refused.
-- Dead letters are rare, so a key that follows the stream sequence cannot make a hotspot.
CREATE TABLE IF NOT EXISTS DeadLetters (
  Sink STRING(MAX) NOT NULL,
  Stream STRING(MAX) NOT NULL,
  StreamSeq INT64 NOT NULL,
  SaleId STRING(MAX) NOT NULL,
  Subject STRING(MAX) NOT NULL,
  RequestId STRING(MAX),
  Deliveries INT64 NOT NULL,
  Reason STRING(MAX) NOT NULL,
  Payload BYTES(MAX) NOT NULL,
  CreatedAt TIMESTAMP NOT NULL OPTIONS (allow_commit_timestamp = true),
) PRIMARY KEY (Sink, Stream, StreamSeq, SaleId);
