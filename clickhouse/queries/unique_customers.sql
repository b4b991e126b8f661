-- Distinct customers (with any sale or return) per UTC day, or per ISO week (Monday start),
-- in [from, to). {period:String} is 'day' or 'week'.
SELECT
    if({period:String} = 'week', toMonday(occurred_at), toDate(occurred_at)) AS period_start,
    uniqExact(customer_id)                                                    AS customers
FROM sale_lines FINAL
WHERE customer_id != ''
  AND occurred_at >= {from:DateTime64(3)} AND occurred_at < {to:DateTime64(3)}
GROUP BY period_start
ORDER BY period_start ASC
