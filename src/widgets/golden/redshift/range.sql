SELECT MIN(CASE WHEN "v" IN ('NaN', 'Infinity', '-Infinity') THEN NULL ELSE "v" END) AS "min", MAX(CASE WHEN "v" IN ('NaN', 'Infinity', '-Infinity') THEN NULL ELSE "v" END) AS "max"
         FROM "widgets"."golden";
-- params: []
