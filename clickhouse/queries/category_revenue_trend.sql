-- Net revenue per category and UTC day in [from, to), from the per-minute rollup.
SELECT
    toDate(minute)    AS day,
    category,
    sum(net_revenue)  AS revenue,
    sum(net_units)    AS units
FROM sales_minute FINAL
WHERE minute >= toStartOfMinute({from:DateTime64(3)}) AND minute < {to:DateTime64(3)}
GROUP BY day, category
ORDER BY day ASC, category ASC
