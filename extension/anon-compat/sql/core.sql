-- anon-compat: anonbranch's PostgreSQL Anonymizer-compatible engine.
-- core.sql: label parsing, the masking-rules view and static masking.
-- The Makefile appends data.sql (fake data) and functions.sql (masking functions).

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION anon CASCADE" to load this file. \quit

-- The extension's schema "anon" is created by CREATE EXTENSION (schema = anon in the control file).

CREATE FUNCTION anon.version()
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT '2.0.0'::text $$;

-- Parses a label of provider anon with the server's own parser (see anon.c).
-- kind: function | value | not_masked | trusted | masked | invalid.
CREATE FUNCTION anon._parse_label(
  label text,
  OUT kind text,
  OUT expression text,
  OUT function_schemas text[],
  OUT error text)
RETURNS record
AS 'MODULE_PATHNAME', 'anon_parse_label'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

-- Schemas whose functions masking rules may call without a TRUSTED label.
CREATE FUNCTION anon._is_trusted_schema(schema_name text)
RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
  SELECT schema_name IN ('anon', 'pg_catalog')
      OR EXISTS (
        SELECT 1
        FROM pg_catalog.pg_seclabel sl
        JOIN pg_catalog.pg_namespace n ON n.oid = sl.objoid
        WHERE sl.classoid = 'pg_catalog.pg_namespace'::pg_catalog.regclass
          AND pg_catalog.lower(sl.provider) = 'anon'
          AND n.nspname = schema_name
          AND (anon._parse_label(sl.label)).kind = 'trusted')
$$;

-- One row per masked column: labels are matched case-insensitively, so a
-- lower-case 'masked with function …' is a rule like any other.
CREATE VIEW anon.pg_masking_rules AS
SELECT
  a.attrelid,
  a.attnum,
  c.relnamespace,
  c.relname,
  a.attname,
  pg_catalog.format_type(a.atttypid, a.atttypmod) AS format_type,
  pg_catalog.col_description(a.attrelid, a.attnum) AS col_description,
  CASE WHEN p.kind = 'function' THEN p.expression END AS masking_function,
  CASE WHEN p.kind = 'value' THEN p.expression END AS masking_value,
  100 AS priority,
  NULL::text AS masking_filter,
  COALESCE(
    (SELECT pg_catalog.bool_and(anon._is_trusted_schema(s))
     FROM pg_catalog.unnest(p.function_schemas) AS s),
    true) AS trusted_schema
FROM pg_catalog.pg_seclabel sl
JOIN pg_catalog.pg_class c ON c.oid = sl.objoid
JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum = sl.objsubid
CROSS JOIN LATERAL anon._parse_label(sl.label) AS p
WHERE sl.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass
  AND sl.objsubid > 0
  AND pg_catalog.lower(sl.provider) = 'anon'
  AND NOT a.attisdropped
  AND p.kind IN ('function', 'value');

-- PostgreSQL Anonymizer 0.x/1.x name of the same view.
CREATE VIEW anon.pg_masks AS SELECT * FROM anon.pg_masking_rules;

-- The SET clause masking one table: every masked column, in column order.
-- Expressions are embedded inside parentheses on lines of their own, exactly
-- as the label provider parsed them.
CREATE FUNCTION anon._masking_assignments(tablename regclass, only_column name DEFAULT NULL)
RETURNS text
LANGUAGE sql STABLE
SET search_path = ''
AS $$
  SELECT pg_catalog.string_agg(
           pg_catalog.format(E'%I = (\n%s\n)', r.attname,
                             COALESCE(r.masking_function, r.masking_value)),
           ', ' ORDER BY r.attnum)
  FROM anon.pg_masking_rules r
  WHERE r.attrelid = tablename
    AND (only_column IS NULL OR r.attname = only_column)
$$;

CREATE FUNCTION anon._check_maskable(tablename regclass)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = ''
AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class
                 WHERE oid = tablename AND relkind IN ('r', 'p')) THEN
    RAISE EXCEPTION 'anon: % is not a table; only tables can be anonymized', tablename;
  END IF;
END
$$;

-- Masks one column in place. Returns false (with a notice) when it has no rule.
CREATE FUNCTION anon.anonymize_column(tablename regclass, colname name)
RETURNS boolean
LANGUAGE plpgsql VOLATILE
SET search_path = ''
AS $$
DECLARE
  assignments text := anon._masking_assignments(tablename, colname);
BEGIN
  PERFORM anon._check_maskable(tablename);
  IF assignments IS NULL THEN
    RAISE NOTICE 'anon: no masking rule for column % of %', colname, tablename;
    RETURN false;
  END IF;
  SET CONSTRAINTS ALL DEFERRED;
  EXECUTE pg_catalog.format('UPDATE %s SET %s', tablename, assignments);
  RETURN true;
END
$$;

-- Masks every masked column of one table with a single UPDATE.
-- Returns NULL when the table has no masking rule.
CREATE FUNCTION anon.anonymize_table(tablename regclass)
RETURNS boolean
LANGUAGE plpgsql VOLATILE
SET search_path = ''
AS $$
DECLARE
  assignments text := anon._masking_assignments(tablename);
BEGIN
  IF assignments IS NULL THEN
    RETURN NULL;
  END IF;
  PERFORM anon._check_maskable(tablename);
  SET CONSTRAINTS ALL DEFERRED;
  EXECUTE pg_catalog.format('UPDATE %s SET %s', tablename, assignments);
  RETURN true;
END
$$;

-- Masks every table that has rules, in one statement: all or nothing.
-- Returns NULL when the database has no masking rule.
CREATE FUNCTION anon.anonymize_database()
RETURNS boolean
LANGUAGE plpgsql VOLATILE
SET search_path = ''
AS $$
DECLARE
  t regclass;
  any_table boolean := false;
BEGIN
  SET CONSTRAINTS ALL DEFERRED;
  FOR t IN
    SELECT DISTINCT r.attrelid::regclass
    FROM anon.pg_masking_rules r
    JOIN pg_catalog.pg_class c ON c.oid = r.attrelid
    WHERE c.relkind IN ('r', 'p')
    ORDER BY 1
  LOOP
    PERFORM anon.anonymize_table(t);
    any_table := true;
  END LOOP;
  IF NOT any_table THEN
    RETURN NULL;
  END IF;
  RETURN true;
END
$$;
