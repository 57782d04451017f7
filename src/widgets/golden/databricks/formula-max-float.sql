SELECT MAX(CASE WHEN isnan(`v`) OR abs(`v`) = double('infinity') THEN NULL ELSE `v` END) AS `value` FROM `widgets`.`golden` LIMIT 2;
-- params: []
