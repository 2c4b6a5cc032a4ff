-- Every write to a table the API caches (src/control/read-cache.ts) tells the
-- API processes listening on anonbranch_changes, once per statement; NOTIFY is
-- delivered at commit and folds identical payloads of one transaction.
CREATE OR REPLACE FUNCTION anonbranch_notify_change() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
  PERFORM pg_catalog.pg_notify('anonbranch_changes', TG_TABLE_NAME);
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER projects_changed AFTER INSERT OR UPDATE OR DELETE ON projects FOR EACH STATEMENT EXECUTE FUNCTION anonbranch_notify_change();
--> statement-breakpoint
CREATE TRIGGER branches_changed AFTER INSERT OR UPDATE OR DELETE ON branches FOR EACH STATEMENT EXECUTE FUNCTION anonbranch_notify_change();
--> statement-breakpoint
CREATE TRIGGER anonymization_runs_changed AFTER INSERT OR UPDATE OR DELETE ON anonymization_runs FOR EACH STATEMENT EXECUTE FUNCTION anonbranch_notify_change();
--> statement-breakpoint
CREATE TRIGGER api_keys_changed AFTER INSERT OR UPDATE OR DELETE ON api_keys FOR EACH STATEMENT EXECUTE FUNCTION anonbranch_notify_change();
