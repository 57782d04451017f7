SELECT SUM(`pop 2020`) AS `value` FROM `widgets`.`golden` LIMIT 2;
-- params: []
