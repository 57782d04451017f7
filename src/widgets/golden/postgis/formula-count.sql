SELECT COUNT(*) AS "value" FROM "widgets"."golden";
-- params: []
