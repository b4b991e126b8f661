-- Net revenue from repeat buyers (customers with at least two sales in the week) in two
-- consecutive weeks starting at {week:Date}, and the change. The seed compared the first and
-- second weeks of January 2021 (week = 2021-01-01).
WITH weekly AS (
    SELECT
        intDiv(toUInt32(toDate(occurred_at) - {week:Date}), 7) AS week_no,
        customer_id,
        uniqExactIf(sale_id, kind = 'sale') AS purchases,
        sum(net_amount)                     AS revenue
    FROM sale_lines FINAL
    WHERE customer_id != ''
      AND toDate(occurred_at) >= {week:Date} AND toDate(occurred_at) < {week:Date} + 14
    GROUP BY week_no, customer_id
)
SELECT
    sumIf(revenue, week_no = 0 AND purchases >= 2)   AS week1_revenue,
    sumIf(revenue, week_no = 1 AND purchases >= 2)   AS week2_revenue,
    countIf(week_no = 0 AND purchases >= 2)          AS week1_repeat_buyers,
    countIf(week_no = 1 AND purchases >= 2)          AS week2_repeat_buyers,
    week2_revenue - week1_revenue                    AS change
FROM weekly
