SELECT count(*) AS "count"
FROM (SELECT 1 FROM "stats_golden"."fixture") AS "_values";
-- params: []
