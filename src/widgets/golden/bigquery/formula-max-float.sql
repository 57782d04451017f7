SELECT MAX(IF(IS_NAN(`v`) OR IS_INF(`v`), NULL, `v`)) AS `value` FROM `widgets`.`golden` LIMIT 2;
-- params: []
