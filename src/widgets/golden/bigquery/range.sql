SELECT MIN(IF(IS_NAN(`v`) OR IS_INF(`v`), NULL, `v`)) AS `min`, MAX(IF(IS_NAN(`v`) OR IS_INF(`v`), NULL, `v`)) AS `max`
         FROM `widgets`.`golden`;
-- params: []
