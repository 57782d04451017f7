SELECT SUM(`pop 2020`) AS `total`, MAX(CASE WHEN isnan(`v`) OR abs(`v`) = double('infinity') THEN NULL ELSE `v` END) AS `top` FROM `widgets`.`golden` LIMIT 2;
-- params: []
