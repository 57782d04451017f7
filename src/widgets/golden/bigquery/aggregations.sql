SELECT SUM(`pop 2020`) AS `total`, MAX(IF(IS_NAN(`v`) OR IS_INF(`v`), NULL, `v`)) AS `top` FROM `widgets`.`golden` LIMIT 2;
-- params: []
