SELECT IFF("v" IN ('NaN'::FLOAT, 'inf'::FLOAT, '-inf'::FLOAT), NULL, "v") AS "x", "pop 2020" AS "y" FROM "WIDGETS"."GOLDEN" WHERE (IFF("v" IN ('NaN'::FLOAT, 'inf'::FLOAT, '-inf'::FLOAT), NULL, "v") IS NOT NULL AND "pop 2020" IS NOT NULL) LIMIT 500;
-- params: []
