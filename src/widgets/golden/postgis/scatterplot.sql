SELECT CASE WHEN "v" IN ('NaN', 'Infinity', '-Infinity') THEN NULL ELSE "v" END AS "x", "pop 2020" AS "y" FROM "widgets"."golden" WHERE (CASE WHEN "v" IN ('NaN', 'Infinity', '-Infinity') THEN NULL ELSE "v" END IS NOT NULL AND "pop 2020" IS NOT NULL) LIMIT 500;
-- params: []
