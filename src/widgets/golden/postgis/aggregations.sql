SELECT SUM("pop 2020") AS "total", MAX(CASE WHEN "v" IN ('NaN', 'Infinity', '-Infinity') THEN NULL ELSE "v" END) AS "top" FROM "widgets"."golden" LIMIT 2;
-- params: []
