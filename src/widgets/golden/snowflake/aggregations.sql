SELECT SUM("pop 2020") AS "total", MAX(IFF("v" IN ('NaN'::FLOAT, 'inf'::FLOAT, '-inf'::FLOAT), NULL, "v")) AS "top" FROM "WIDGETS"."GOLDEN" LIMIT 2;
-- params: []
