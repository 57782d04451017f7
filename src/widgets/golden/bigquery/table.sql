SELECT `Name`, `pop 2020` FROM `widgets`.`golden` WHERE REGEXP_CONTAINS(REGEXP_REPLACE(NORMALIZE(CAST(`Name` AS STRING), NFD), r'\pM', ''), CONCAT('(?i)', @p1)) ORDER BY `pop 2020` DESC NULLS LAST
        LIMIT 2 OFFSET 1;
-- params: ["a"]

SELECT COUNT(*) AS `total` FROM `widgets`.`golden` WHERE REGEXP_CONTAINS(REGEXP_REPLACE(NORMALIZE(CAST(`Name` AS STRING), NFD), r'\pM', ''), CONCAT('(?i)', @p1));
-- params: ["a"]
