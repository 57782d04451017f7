SELECT "name", "value" FROM (SELECT "Name" AS "name", SUM("pop 2020") AS "value" FROM "widgets"."golden"
    GROUP BY "Name") AS "_categories"
    ORDER BY "value" DESC NULLS LAST, "name" ASC LIMIT 1001;
-- params: []
