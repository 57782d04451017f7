SELECT MAX(CASE WHEN "v" IN ('NaN', 'Infinity', '-Infinity') THEN NULL ELSE "v" END) AS "value" FROM "widgets"."golden" LIMIT 2;
-- params: []
