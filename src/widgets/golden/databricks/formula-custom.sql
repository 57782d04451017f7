SELECT (sum(id) * 2) AS `value` FROM `widgets`.`golden` LIMIT 2;
-- params: []
