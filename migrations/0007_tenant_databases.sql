CREATE TABLE `tenant_databases` (
	`tenant` text PRIMARY KEY NOT NULL,
	`binding` text NOT NULL,
	`assigned_at` integer NOT NULL
);
