SELECT ((TIMESTAMP 'epoch' + (FLOOR((EXTRACT(EPOCH FROM ("t" AT TIME ZONE $1)) - 345600) / 604800) * 604800
        + 345600) * INTERVAL '1 second') AT TIME ZONE $2) AS "name", AVG(CASE WHEN "v" IN ('NaN', 'Infinity', '-Infinity') THEN NULL ELSE "v" END) AS "value" FROM "widgets"."golden" WHERE "t" IS NOT NULL
          GROUP BY 1 ORDER BY 1 LIMIT 1001;
-- params: ["UTC","UTC"]
