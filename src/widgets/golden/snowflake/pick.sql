SELECT "Name", MD5(ST_ASWKB("geom")) AS "_carto_feature_id" FROM "WIDGETS"."GOLDEN" WHERE MD5(ST_ASWKB("geom")) IN (:1)
        LIMIT 10 OFFSET 0;
-- params: ["0f92f44fe0e1b0ff96ef32696ddb4e9e"]
