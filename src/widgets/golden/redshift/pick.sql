SELECT "Name", MD5(ST_AsHexWKB("geom")) AS "_carto_feature_id" FROM "widgets"."golden" WHERE MD5(ST_AsHexWKB("geom")) IN ($1)
        LIMIT 10 OFFSET 0;
-- params: ["0f92f44fe0e1b0ff96ef32696ddb4e9e"]
