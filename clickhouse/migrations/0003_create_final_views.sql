-- What BI tools should read: the tables with duplicates already collapsed.
CREATE VIEW IF NOT EXISTS sale_lines_final AS SELECT * FROM sale_lines FINAL;
CREATE VIEW IF NOT EXISTS sales_minute_final AS SELECT * EXCEPT version FROM sales_minute FINAL;
