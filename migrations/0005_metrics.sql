CREATE TABLE `collection_stats` (
	`tenant` text NOT NULL,
	`collection` text NOT NULL,
	`documents` integer DEFAULT 0 NOT NULL,
	`bytes` integer DEFAULT 0 NOT NULL,
	`events` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`tenant`, `collection`)
);
--> statement-breakpoint
CREATE TABLE `outbox_backlog` (
	`tenant` text NOT NULL,
	`collection` text NOT NULL,
	`id` text NOT NULL,
	`events` integer NOT NULL,
	`retry_at` integer,
	`reported_at` integer NOT NULL,
	PRIMARY KEY(`tenant`, `collection`, `id`)
);
--> statement-breakpoint
INSERT INTO `collection_stats` (`tenant`, `collection`, `documents`, `bytes`, `events`)
  SELECT `tenant`, `collection`, sum(1 - `deleted`), sum(coalesce(length(`data`), 0)), 0 FROM `documents` GROUP BY `tenant`, `collection`;
--> statement-breakpoint
INSERT INTO `collection_stats` (`tenant`, `collection`, `events`)
  SELECT `tenant`, `collection`, count(*) FROM `changes` WHERE true GROUP BY `tenant`, `collection`
  ON CONFLICT (`tenant`, `collection`) DO UPDATE SET `events` = excluded.`events`;
--> statement-breakpoint
CREATE TRIGGER `collection_stats_events` AFTER INSERT ON `changes` BEGIN
  INSERT INTO `collection_stats` (`tenant`, `collection`, `events`) VALUES (NEW.`tenant`, NEW.`collection`, 1)
  ON CONFLICT (`tenant`, `collection`) DO UPDATE SET `events` = `events` + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `collection_stats_insert` AFTER INSERT ON `documents` BEGIN
  INSERT INTO `collection_stats` (`tenant`, `collection`, `documents`, `bytes`)
  VALUES (NEW.`tenant`, NEW.`collection`, 1 - NEW.`deleted`, coalesce(length(NEW.`data`), 0))
  ON CONFLICT (`tenant`, `collection`) DO UPDATE SET
    `documents` = `documents` + 1 - NEW.`deleted`, `bytes` = `bytes` + coalesce(length(NEW.`data`), 0);
END;
--> statement-breakpoint
CREATE TRIGGER `collection_stats_update` AFTER UPDATE ON `documents` BEGIN
  UPDATE `collection_stats` SET
    `documents` = `documents` + OLD.`deleted` - NEW.`deleted`,
    `bytes` = `bytes` - coalesce(length(OLD.`data`), 0) + coalesce(length(NEW.`data`), 0)
  WHERE `tenant` = NEW.`tenant` AND `collection` = NEW.`collection`;
END;
--> statement-breakpoint
CREATE TRIGGER `collection_stats_delete` AFTER DELETE ON `documents` BEGIN
  UPDATE `collection_stats` SET
    `documents` = `documents` - (1 - OLD.`deleted`), `bytes` = `bytes` - coalesce(length(OLD.`data`), 0)
  WHERE `tenant` = OLD.`tenant` AND `collection` = OLD.`collection`;
END;
