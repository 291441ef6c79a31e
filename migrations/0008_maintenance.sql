CREATE TABLE `rebuild_documents` (
	`rebuild_id` text NOT NULL,
	`tenant` text NOT NULL,
	`collection` text NOT NULL,
	`id` text NOT NULL,
	`version` integer NOT NULL,
	`deleted` integer NOT NULL,
	`data` text,
	`data_ref` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`projected_at` integer NOT NULL,
	`k0` blob,
	`k1` blob,
	`k2` blob,
	`k3` blob,
	`ix` text,
	PRIMARY KEY(`rebuild_id`, `tenant`, `collection`, `id`)
);
--> statement-breakpoint
CREATE TABLE `rebuilds` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant` text,
	`collection` text,
	`target` text NOT NULL,
	`status` text NOT NULL,
	`objects_total` integer,
	`objects_read` integer DEFAULT 0 NOT NULL,
	`events_read` integer DEFAULT 0 NOT NULL,
	`started_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`finished_at` integer,
	`error` text
);
--> statement-breakpoint
CREATE INDEX `rebuilds_by_status` ON `rebuilds` (`status`);--> statement-breakpoint
ALTER TABLE `index_states` ADD `backfill_total` integer;--> statement-breakpoint
ALTER TABLE `index_states` ADD `backfill_done` integer;--> statement-breakpoint
ALTER TABLE `tenant_databases` ADD `epoch` integer DEFAULT 0 NOT NULL;