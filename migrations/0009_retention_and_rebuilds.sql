CREATE TABLE `feed_horizons` (
	`tenant` text PRIMARY KEY NOT NULL,
	`pruned_seq` integer NOT NULL,
	`pruned_committed_at` integer NOT NULL,
	`pruned_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `maintenance_cursors` (
	`name` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `rebuild_takeovers` (
	`rebuild_id` text PRIMARY KEY NOT NULL,
	`at` integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE `rebuilds` ADD `mode` text DEFAULT 'shadow' NOT NULL;--> statement-breakpoint
ALTER TABLE `rebuilds` ADD `source` text;--> statement-breakpoint
CREATE INDEX `changes_by_ref` ON `changes` (`data_ref`) WHERE `data_ref` IS NOT NULL;--> statement-breakpoint
CREATE INDEX `documents_by_ref` ON `documents` (`data_ref`) WHERE `data_ref` IS NOT NULL;