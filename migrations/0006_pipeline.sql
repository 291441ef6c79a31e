CREATE TABLE `pipeline_probes` (
	`id` text PRIMARY KEY NOT NULL,
	`sent_at` integer NOT NULL,
	`projected_at` integer
);
--> statement-breakpoint
CREATE INDEX `pipeline_probes_by_time` ON `pipeline_probes` (`sent_at`);