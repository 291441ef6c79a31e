CREATE TABLE `index_states` (
	`tenant` text NOT NULL,
	`collection` text NOT NULL,
	`signature` text NOT NULL,
	`ready` integer NOT NULL,
	`adopted` text NOT NULL,
	`checked_at` integer NOT NULL,
	PRIMARY KEY(`tenant`, `collection`)
);
--> statement-breakpoint
ALTER TABLE `documents` ADD `ix` text;