SELECT to_utc_timestamp(date_trunc('WEEK', from_utc_timestamp(`t`, :p1)), :p2) AS `name`, AVG(CASE WHEN isnan(`v`) OR abs(`v`) = double('infinity') THEN NULL ELSE `v` END) AS `value` FROM `widgets`.`golden` WHERE `t` IS NOT NULL
          GROUP BY 1 ORDER BY 1 LIMIT 1001;
-- params: ["UTC","UTC"]
