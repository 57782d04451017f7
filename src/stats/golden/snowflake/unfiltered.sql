SELECT count(*) AS "count"
FROM (SELECT 1 FROM "STATS_GOLDEN"."FIXTURE") AS "_values";
-- params: []
