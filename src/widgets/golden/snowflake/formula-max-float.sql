SELECT MAX(IFF("v" IN ('NaN'::FLOAT, 'inf'::FLOAT, '-inf'::FLOAT), NULL, "v")) AS "value" FROM "WIDGETS"."GOLDEN" LIMIT 2;
-- params: []
