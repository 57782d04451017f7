SELECT (add_months(date_trunc('month', ("t" AT TIME ZONE $1)), -MOD((CAST(EXTRACT(YEAR FROM ("t" AT TIME ZONE $2)) AS INTEGER) * 12 + CAST(EXTRACT(MONTH FROM ("t" AT TIME ZONE $3)) AS INTEGER) - 1), 3)) AT TIME ZONE $4) AS "name", "Name" AS "category", COUNT(*) AS "value"
         FROM "widgets"."golden" WHERE ("t" IS NOT NULL AND "Name" IN (SELECT "Name" FROM "widgets"."golden" WHERE "t" IS NOT NULL
      GROUP BY "Name" ORDER BY COUNT(*) DESC LIMIT 2)) GROUP BY 1, 2 ORDER BY 1, 2 LIMIT 1001;
-- params: ["UTC","UTC","UTC","UTC"]
