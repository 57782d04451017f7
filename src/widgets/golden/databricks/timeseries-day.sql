SELECT to_utc_timestamp(date_trunc('DAY', from_utc_timestamp(`t`, :p1)), :p2) AS `name`, COUNT(*) AS `value` FROM `widgets`.`golden` WHERE `t` IS NOT NULL
          GROUP BY 1 ORDER BY 1 LIMIT 1001;
-- params: ["UTC","UTC"]
