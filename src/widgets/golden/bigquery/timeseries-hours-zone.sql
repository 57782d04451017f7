SELECT TIMESTAMP(DATETIME_BUCKET(DATETIME(`t`, @p1), INTERVAL 6 HOUR), @p2) AS `name`, COUNT(*) AS `value` FROM `widgets`.`golden` WHERE `t` IS NOT NULL
          GROUP BY 1 ORDER BY 1 LIMIT 1001;
-- params: ["Asia/Kolkata","Asia/Kolkata"]
