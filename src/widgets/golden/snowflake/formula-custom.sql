SELECT (sum(id) * 2) AS "value" FROM "WIDGETS"."GOLDEN" LIMIT 2;
-- params: []
