-- Customers by number of purchases (sales, not returns) in [from, to), at least {min:UInt32}.
SELECT
    customer_id,
    uniqExactIf(sale_id, kind = 'sale') AS purchases,
    sum(net_amount)                     AS revenue,
    min(occurred_at)                    AS first_purchase,
    max(occurred_at)                    AS last_purchase
FROM sale_lines FINAL
WHERE customer_id != ''
  AND occurred_at >= {from:DateTime64(3)} AND occurred_at < {to:DateTime64(3)}
GROUP BY customer_id
HAVING purchases >= {min:UInt32}
ORDER BY purchases DESC, revenue DESC, customer_id ASC
LIMIT {limit:UInt32}
