SELECT RANGE_BUCKET(IF(IS_NAN(`v`) OR IS_INF(`v`), NULL, `v`), @p1) AS `tick`, COUNT(*) AS `value`
         FROM `widgets`.`golden` WHERE IF(IS_NAN(`v`) OR IS_INF(`v`), NULL, `v`) IS NOT NULL GROUP BY 1 ORDER BY 1;
-- params: [[0,1,2]]
