ALTER TABLE `dead_letters` ADD `event_id` text;--> statement-breakpoint
ALTER TABLE `dead_letters` ADD `deaths` integer DEFAULT 1 NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX `dead_letters_event` ON `dead_letters` (`event_id`);