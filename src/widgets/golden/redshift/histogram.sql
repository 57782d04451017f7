SELECT CASE WHEN CASE WHEN "v" IN ('NaN', 'Infinity', '-Infinity') THEN NULL ELSE "v" END IS NULL THEN NULL WHEN CASE WHEN "v" IN ('NaN', 'Infinity', '-Infinity') THEN NULL ELSE "v" END < $1 THEN 0 WHEN CASE WHEN "v" IN ('NaN', 'Infinity', '-Infinity') THEN NULL ELSE "v" END < $2 THEN 1 WHEN CASE WHEN "v" IN ('NaN', 'Infinity', '-Infinity') THEN NULL ELSE "v" END < $3 THEN 2 ELSE 3 END AS "tick", COUNT(*) AS "value"
         FROM "widgets"."golden" WHERE CASE WHEN "v" IN ('NaN', 'Infinity', '-Infinity') THEN NULL ELSE "v" END IS NOT NULL GROUP BY 1 ORDER BY 1;
-- params: [0,1,2]
