SELECT `Label` AS `category`, count(*) AS `frequency`
FROM `stats_golden`.`fixture` WHERE (`id` <= @p1) AND `Label` IS NOT NULL
GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 20 OFFSET 0;
-- params: [10]
