SELECT to_utc_timestamp(timestamp_seconds(floor((unix_timestamp(from_utc_timestamp(`t`, :p1)) - 0) / 21600) * 21600 + 0), :p2) AS `name`, COUNT(*) AS `value` FROM `widgets`.`golden` WHERE `t` IS NOT NULL
          GROUP BY 1 ORDER BY 1 LIMIT 1001;
-- params: ["Asia/Kolkata","Asia/Kolkata"]
