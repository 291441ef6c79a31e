CREATE TABLE `held_events` (
	`tenant` text NOT NULL,
	`collection` text NOT NULL,
	`id` text NOT NULL,
	`version` integer NOT NULL,
	`tx_id` text,
	`tx_size` integer,
	`body` text NOT NULL,
	`held_at` integer NOT NULL,
	PRIMARY KEY(`tenant`, `collection`, `id`, `version`)
);
--> statement-breakpoint
CREATE INDEX `held_by_tx` ON `held_events` (`tenant`,`tx_id`);--> statement-breakpoint
ALTER TABLE `changes` ADD `tx_id` text;