SELECT MIN(IFF("v" IN ('NaN'::FLOAT, 'inf'::FLOAT, '-inf'::FLOAT), NULL, "v")) AS "min", MAX(IFF("v" IN ('NaN'::FLOAT, 'inf'::FLOAT, '-inf'::FLOAT), NULL, "v")) AS "max"
         FROM "WIDGETS"."GOLDEN";
-- params: []
