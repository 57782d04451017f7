SELECT to_utc_timestamp(add_months(date_trunc('MONTH', from_utc_timestamp(`t`, :p1)), -pmod((year(from_utc_timestamp(`t`, :p2)) * 12 + month(from_utc_timestamp(`t`, :p3)) - 1), 3)), :p4) AS `name`, `Name` AS `category`, COUNT(*) AS `value`
         FROM `widgets`.`golden` WHERE (`t` IS NOT NULL AND `Name` IN (SELECT `Name` FROM `widgets`.`golden` WHERE `t` IS NOT NULL
      GROUP BY `Name` ORDER BY COUNT(*) DESC LIMIT 2)) GROUP BY 1, 2 ORDER BY 1, 2 LIMIT 1001;
-- params: ["UTC","UTC","UTC","UTC"]
