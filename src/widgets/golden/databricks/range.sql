SELECT MIN(CASE WHEN isnan(`v`) OR abs(`v`) = double('infinity') THEN NULL ELSE `v` END) AS `min`, MAX(CASE WHEN isnan(`v`) OR abs(`v`) = double('infinity') THEN NULL ELSE `v` END) AS `max`
         FROM `widgets`.`golden`;
-- params: []
