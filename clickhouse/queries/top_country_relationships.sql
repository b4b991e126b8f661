-- Pairs of countries (buyer ↔ seller, either direction) by combined net revenue in [from, to).
-- The seed's top_country_relationships.sql; the first row is the top trading relationship.
SELECT
    least(buyer_country, seller_country)    AS country_a,
    greatest(buyer_country, seller_country) AS country_b,
    sum(net_amount)                         AS revenue
FROM sale_lines FINAL
WHERE occurred_at >= {from:DateTime64(3)} AND occurred_at < {to:DateTime64(3)}
  AND buyer_country != '' AND seller_country != ''
GROUP BY country_a, country_b
ORDER BY revenue DESC, country_a ASC, country_b ASC
LIMIT {limit:UInt32}
