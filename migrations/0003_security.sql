CREATE TABLE `api_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant` text NOT NULL,
	`name` text NOT NULL,
	`scopes` text NOT NULL,
	`collections` text,
	`rate_limit` text NOT NULL,
	`secret_hash` text NOT NULL,
	`created_at` integer NOT NULL,
	`revoked_at` integer
);
--> statement-breakpoint
CREATE INDEX `api_keys_by_tenant` ON `api_keys` (`tenant`,`revoked_at`,`id`);--> statement-breakpoint
CREATE TABLE `audit_log` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`at` integer NOT NULL,
	`actor` text NOT NULL,
	`tenant` text,
	`action` text NOT NULL,
	`target` text,
	`request_id` text NOT NULL,
	`detail` text
);
--> statement-breakpoint
CREATE INDEX `audit_by_tenant` ON `audit_log` (`tenant`,`seq`);--> statement-breakpoint
ALTER TABLE `dead_letters` ADD `tenant` text;--> statement-breakpoint
CREATE INDEX `dead_letters_by_tenant` ON `dead_letters` (`tenant`,`redriven_at`,`message_id`);--> statement-breakpoint
CREATE INDEX `changes_by_tenant` ON `changes` (`tenant`,`seq`);--> statement-breakpoint
UPDATE `dead_letters` SET `tenant` = json_extract(`body`, '$.tenant') WHERE `event_id` IS NOT NULL AND json_valid(`body`);
