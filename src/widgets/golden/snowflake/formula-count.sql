SELECT COUNT(*) AS "value" FROM "WIDGETS"."GOLDEN" LIMIT 2;
-- params: []
