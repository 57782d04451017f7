SELECT COUNT(*) AS "value" FROM "widgets"."golden" LIMIT 2;
-- params: []
