SELECT COUNT(*) AS "value" FROM "widgets"."golden" WHERE MD5(ST_AsHexWKB("geom")) IN ($1) LIMIT 2;
-- params: ["0f92f44fe0e1b0ff96ef32696ddb4e9e"]
