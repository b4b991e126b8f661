-- Net revenue, sales and returns per branch and UTC day in [from, to).
SELECT
    toDate(occurred_at)            AS day,
    branch_id,
    uniqExactIf(sale_id, kind = 'sale')   AS sales,
    uniqExactIf(sale_id, kind = 'return') AS returns,
    sum(net_amount)                AS revenue
FROM sale_lines FINAL
WHERE occurred_at >= {from:DateTime64(3)} AND occurred_at < {to:DateTime64(3)}
GROUP BY day, branch_id
ORDER BY day ASC, branch_id ASC
