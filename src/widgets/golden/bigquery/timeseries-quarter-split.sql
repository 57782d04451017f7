SELECT TIMESTAMP(DATETIME_BUCKET(DATETIME(`t`, @p1), INTERVAL 3 MONTH), @p2) AS `name`, `Name` AS `category`, COUNT(*) AS `value`
         FROM `widgets`.`golden` WHERE (`t` IS NOT NULL AND `Name` IN (SELECT `Name` FROM `widgets`.`golden` WHERE `t` IS NOT NULL
      GROUP BY `Name` ORDER BY COUNT(*) DESC LIMIT 2)) GROUP BY 1, 2 ORDER BY 1, 2 LIMIT 1001;
-- params: ["UTC","UTC"]
