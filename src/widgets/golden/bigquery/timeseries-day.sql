SELECT TIMESTAMP(DATETIME_TRUNC(DATETIME(`t`, @p1), DAY), @p2) AS `name`, COUNT(*) AS `value` FROM `widgets`.`golden` WHERE `t` IS NOT NULL
          GROUP BY 1 ORDER BY 1 LIMIT 1001;
-- params: ["UTC","UTC"]
