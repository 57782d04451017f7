SELECT CASE WHEN IFF("v" IN ('NaN'::FLOAT, 'inf'::FLOAT, '-inf'::FLOAT), NULL, "v") IS NULL THEN NULL WHEN IFF("v" IN ('NaN'::FLOAT, 'inf'::FLOAT, '-inf'::FLOAT), NULL, "v") < :1 THEN 0 WHEN IFF("v" IN ('NaN'::FLOAT, 'inf'::FLOAT, '-inf'::FLOAT), NULL, "v") < :2 THEN 1 WHEN IFF("v" IN ('NaN'::FLOAT, 'inf'::FLOAT, '-inf'::FLOAT), NULL, "v") < :3 THEN 2 ELSE 3 END AS "tick", COUNT(*) AS "value"
         FROM "WIDGETS"."GOLDEN" WHERE IFF("v" IN ('NaN'::FLOAT, 'inf'::FLOAT, '-inf'::FLOAT), NULL, "v") IS NOT NULL GROUP BY 1 ORDER BY 1;
-- params: [0,1,2]
