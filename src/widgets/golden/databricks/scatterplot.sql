SELECT CASE WHEN isnan(`v`) OR abs(`v`) = double('infinity') THEN NULL ELSE `v` END AS `x`, `pop 2020` AS `y` FROM `widgets`.`golden` WHERE (CASE WHEN isnan(`v`) OR abs(`v`) = double('infinity') THEN NULL ELSE `v` END IS NOT NULL AND `pop 2020` IS NOT NULL) LIMIT 500;
-- params: []
