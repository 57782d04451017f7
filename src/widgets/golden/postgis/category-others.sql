WITH "_top" AS (SELECT "name", "value" FROM (SELECT "Name" AS "name", COUNT(*) AS "value" FROM "widgets"."golden"
    GROUP BY "Name") AS "_categories"
    ORDER BY "value" ASC NULLS LAST, "name" ASC LIMIT 2)
        SELECT "name", "value", 0 AS "_others" FROM "_top"
        UNION ALL SELECT NULL, (SELECT COUNT(*) FROM (SELECT * FROM "widgets"."golden") AS "_rows"
    WHERE NOT EXISTS (SELECT 1 FROM "_top" WHERE "_top"."name" IS NOT DISTINCT FROM "_rows"."Name")), 1;
-- params: []
