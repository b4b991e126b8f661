-- Each seller country's share of net revenue and of net items sold in [from, to).
-- The seed's country_contribution.sql; returns subtract. Countries absent from a sale are ''.
SELECT
    seller_country                                                       AS country,
    sum(net_amount)                                                      AS revenue,
    sum(net_quantity)                                                    AS items,
    round(100 * toFloat64(sum(net_amount)) / nullIf(toFloat64(sum(sum(net_amount)) OVER ()), 0), 4) AS revenue_share_pct,
    round(100 * sum(net_quantity) / nullIf(sum(sum(net_quantity)) OVER (), 0), 4)                   AS items_share_pct
FROM sale_lines FINAL
WHERE occurred_at >= {from:DateTime64(3)} AND occurred_at < {to:DateTime64(3)}
GROUP BY country
ORDER BY revenue DESC, country ASC
