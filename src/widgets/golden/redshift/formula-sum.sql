SELECT SUM("pop 2020") AS "value" FROM "widgets"."golden";
-- params: []
