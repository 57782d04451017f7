SELECT SUM("pop 2020") AS "value" FROM "WIDGETS"."GOLDEN" LIMIT 2;
-- params: []
