ALTER TABLE "branches" ADD COLUMN "user_sessions_since_run" boolean DEFAULT false NOT NULL;
--> statement-breakpoint
-- Branches anonymized before this flag existed may carry labels their users set: look at them once.
UPDATE "branches" SET "user_sessions_since_run" = true WHERE "anon_state" = 'anonymized';
--> statement-breakpoint
CREATE TRIGGER masking_rules_changed AFTER INSERT OR UPDATE OR DELETE ON masking_rules FOR EACH STATEMENT EXECUTE FUNCTION anonbranch_notify_change();
