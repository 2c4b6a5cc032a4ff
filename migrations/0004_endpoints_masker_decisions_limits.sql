CREATE TABLE "data_plane_servers" (
	"host" text NOT NULL,
	"port" integer NOT NULL,
	"storage_budget_bytes" bigint,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "data_plane_servers_host_port_pk" PRIMARY KEY("host","port")
);
--> statement-breakpoint
CREATE TABLE "not_sensitive_columns" (
	"id" serial PRIMARY KEY NOT NULL,
	"project_id" text NOT NULL,
	"database_name" text NOT NULL,
	"schema_name" text NOT NULL,
	"table_name" text NOT NULL,
	"column_name" text NOT NULL,
	"reason" text,
	"decided_by" text NOT NULL,
	"decided_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "rate_limit_counters" (
	"key" text NOT NULL,
	"window_start" timestamp with time zone NOT NULL,
	"count" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "rate_limit_counters_key_window_start_pk" PRIMARY KEY("key","window_start")
);
--> statement-breakpoint
ALTER TABLE "anonymization_runs" ADD COLUMN "triggered_by_role" text DEFAULT 'admin' NOT NULL;--> statement-breakpoint
ALTER TABLE "anonymization_runs" ADD COLUMN "tables" jsonb;--> statement-breakpoint
ALTER TABLE "branches" ADD COLUMN "endpoint_port" integer;--> statement-breakpoint
ALTER TABLE "branches" ADD COLUMN "logical_size_bytes" bigint;--> statement-breakpoint
ALTER TABLE "oidc_trust_policies" ADD COLUMN "repository_id" text;--> statement-breakpoint
ALTER TABLE "oidc_trust_policies" ADD COLUMN "repository_owner_id" text;--> statement-breakpoint
ALTER TABLE "oidc_trust_policies" ADD COLUMN "environment" text;--> statement-breakpoint
ALTER TABLE "oidc_trust_policies" ADD COLUMN "job_workflow_ref" text;--> statement-breakpoint
ALTER TABLE "operations" ADD COLUMN "outage_retries" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "operations" ADD COLUMN "server_slot" integer;--> statement-breakpoint
ALTER TABLE "projects" ADD COLUMN "owner_role_name" text DEFAULT 'neondb_owner' NOT NULL;--> statement-breakpoint
ALTER TABLE "projects" ADD COLUMN "settings" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "not_sensitive_columns" ADD CONSTRAINT "not_sensitive_columns_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "not_sensitive_columns_column_key" ON "not_sensitive_columns" USING btree ("project_id","database_name","schema_name","table_name","column_name");--> statement-breakpoint
CREATE UNIQUE INDEX "branches_endpoint_port_key" ON "branches" USING btree ("endpoint_port") WHERE deleted_at IS NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "branches_endpoint_id_key" ON "branches" USING btree ("endpoint_id");