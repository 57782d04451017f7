SELECT COUNT(*) AS `value` FROM `widgets`.`golden` WHERE TO_HEX(MD5(ST_ASBINARY(`geom`))) IN (@p1) LIMIT 2;
-- params: ["0f92f44fe0e1b0ff96ef32696ddb4e9e"]
