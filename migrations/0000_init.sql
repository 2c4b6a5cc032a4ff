CREATE TABLE "anonymization_runs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"branch_id" text NOT NULL,
	"operation_id" uuid,
	"triggered_by" text NOT NULL,
	"triggered_by_username" text NOT NULL,
	"status" text DEFAULT 'scheduled' NOT NULL,
	"started_at" timestamp with time zone,
	"completed_at" timestamp with time zone,
	"masked_columns" integer,
	"error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "branch_databases" (
	"id" serial PRIMARY KEY NOT NULL,
	"branch_id" text NOT NULL,
	"name" text NOT NULL,
	"physical_name" text NOT NULL,
	"owner_name" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "branches" (
	"id" text PRIMARY KEY NOT NULL,
	"project_id" text NOT NULL,
	"name" text NOT NULL,
	"parent_id" text,
	"is_default" boolean DEFAULT false NOT NULL,
	"protected" boolean DEFAULT false NOT NULL,
	"current_state" text NOT NULL,
	"state_changed_at" timestamp with time zone DEFAULT now() NOT NULL,
	"anon_state" text,
	"status_message" text,
	"failed_at" timestamp with time zone,
	"endpoint_id" text NOT NULL,
	"role_name" text,
	"role_password_encrypted" text,
	"annotation" jsonb,
	"expires_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "masking_rules" (
	"id" serial PRIMARY KEY NOT NULL,
	"branch_id" text NOT NULL,
	"position" integer NOT NULL,
	"database_name" text NOT NULL,
	"schema_name" text NOT NULL,
	"table_name" text NOT NULL,
	"column_name" text NOT NULL,
	"masking_function" text,
	"masking_value" text,
	"source" text DEFAULT 'api' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "operations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"project_id" text NOT NULL,
	"branch_id" text,
	"endpoint_id" text,
	"action" text NOT NULL,
	"status" text DEFAULT 'scheduling' NOT NULL,
	"error" text,
	"failures_count" integer DEFAULT 0 NOT NULL,
	"retry_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "projects" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"source_uri_encrypted" text NOT NULL,
	"host" text NOT NULL,
	"port" integer NOT NULL,
	"pg_version" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "anonymization_runs" ADD CONSTRAINT "anonymization_runs_branch_id_branches_id_fk" FOREIGN KEY ("branch_id") REFERENCES "public"."branches"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "branch_databases" ADD CONSTRAINT "branch_databases_branch_id_branches_id_fk" FOREIGN KEY ("branch_id") REFERENCES "public"."branches"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "branches" ADD CONSTRAINT "branches_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "masking_rules" ADD CONSTRAINT "masking_rules_branch_id_branches_id_fk" FOREIGN KEY ("branch_id") REFERENCES "public"."branches"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "operations" ADD CONSTRAINT "operations_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "anonymization_runs_branch_idx" ON "anonymization_runs" USING btree ("branch_id","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "branch_databases_branch_name_key" ON "branch_databases" USING btree ("branch_id","name");--> statement-breakpoint
CREATE UNIQUE INDEX "branches_project_name_key" ON "branches" USING btree ("project_id","name") WHERE deleted_at IS NULL;--> statement-breakpoint
CREATE INDEX "branches_project_created_idx" ON "branches" USING btree ("project_id","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "masking_rules_column_key" ON "masking_rules" USING btree ("branch_id","database_name","schema_name","table_name","column_name");--> statement-breakpoint
CREATE INDEX "operations_branch_idx" ON "operations" USING btree ("branch_id","status");