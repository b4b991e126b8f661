-- Products by net revenue in [from, to), with net units and lines sold.
SELECT
    product_id,
    any(category)             AS category,
    countIf(kind = 'sale')    AS lines,
    sum(net_quantity)         AS units,
    sum(net_amount)           AS revenue
FROM sale_lines FINAL
WHERE occurred_at >= {from:DateTime64(3)} AND occurred_at < {to:DateTime64(3)}
GROUP BY product_id
ORDER BY revenue DESC, product_id ASC
LIMIT {limit:UInt32}
