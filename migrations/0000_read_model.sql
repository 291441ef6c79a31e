CREATE TABLE `changes` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`tenant` text NOT NULL,
	`collection` text NOT NULL,
	`id` text NOT NULL,
	`version` integer NOT NULL,
	`type` text NOT NULL,
	`event_id` text NOT NULL,
	`data` text,
	`data_ref` text,
	`committed_at` integer NOT NULL,
	`projected_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `changes_key_version` ON `changes` (`tenant`,`collection`,`id`,`version`);--> statement-breakpoint
CREATE INDEX `changes_by_collection` ON `changes` (`tenant`,`collection`,`seq`);--> statement-breakpoint
CREATE TABLE `dead_letters` (
	`message_id` text PRIMARY KEY NOT NULL,
	`body` text NOT NULL,
	`attempts` integer NOT NULL,
	`received_at` integer NOT NULL,
	`redriven_at` integer
);
--> statement-breakpoint
CREATE INDEX `dead_letters_pending` ON `dead_letters` (`redriven_at`,`received_at`);--> statement-breakpoint
CREATE TABLE `documents` (
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
	`k3` blob
);
--> statement-breakpoint
CREATE UNIQUE INDEX `documents_key` ON `documents` (`tenant`,`collection`,`id`);--> statement-breakpoint
CREATE INDEX `documents_by_id` ON `documents` (`tenant`,`collection`,`deleted`,`id`);--> statement-breakpoint
CREATE INDEX `documents_k0` ON `documents` (`tenant`,`collection`,`deleted`,`k0`,`id`);--> statement-breakpoint
CREATE INDEX `documents_k1` ON `documents` (`tenant`,`collection`,`deleted`,`k1`,`id`);--> statement-breakpoint
CREATE INDEX `documents_k2` ON `documents` (`tenant`,`collection`,`deleted`,`k2`,`id`);--> statement-breakpoint
CREATE INDEX `documents_k3` ON `documents` (`tenant`,`collection`,`deleted`,`k3`,`id`);