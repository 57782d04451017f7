SELECT IF(IS_NAN(`v`) OR IS_INF(`v`), NULL, `v`) AS `x`, `pop 2020` AS `y` FROM `widgets`.`golden` WHERE (IF(IS_NAN(`v`) OR IS_INF(`v`), NULL, `v`) IS NOT NULL AND `pop 2020` IS NOT NULL) LIMIT 500;
-- params: []
