SELECT COUNT(*) AS "value" FROM "WIDGETS"."GOLDEN";
-- params: []
