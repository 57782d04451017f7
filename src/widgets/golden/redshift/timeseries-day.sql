SELECT ((TIMESTAMP 'epoch' + (FLOOR((EXTRACT(EPOCH FROM ("t" AT TIME ZONE $1)) - 0) / 86400) * 86400
        + 0) * INTERVAL '1 second') AT TIME ZONE $2) AS "name", COUNT(*) AS "value" FROM "widgets"."golden" WHERE "t" IS NOT NULL
          GROUP BY 1 ORDER BY 1 LIMIT 1001;
-- params: ["UTC","UTC"]
