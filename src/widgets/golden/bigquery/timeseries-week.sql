SELECT TIMESTAMP(DATETIME_TRUNC(DATETIME(`t`, @p1), WEEK(MONDAY)), @p2) AS `name`, AVG(IF(IS_NAN(`v`) OR IS_INF(`v`), NULL, `v`)) AS `value` FROM `widgets`.`golden` WHERE `t` IS NOT NULL
          GROUP BY 1 ORDER BY 1 LIMIT 1001;
-- params: ["UTC","UTC"]
