SELECT width_bucket(CAST(CASE WHEN "v" IN ('NaN', 'Infinity', '-Infinity') THEN NULL ELSE "v" END AS DOUBLE PRECISION), CAST($1 AS DOUBLE PRECISION[])) AS "tick", COUNT(*) AS "value"
         FROM "widgets"."golden" WHERE CASE WHEN "v" IN ('NaN', 'Infinity', '-Infinity') THEN NULL ELSE "v" END IS NOT NULL GROUP BY 1 ORDER BY 1;
-- params: ["{0,1,2}"]
