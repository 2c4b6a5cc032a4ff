-- anon-compat: functions.sql
-- Masking functions: fake_*, pseudo_*, random_*, hash, partial, noise,
-- generalize_*, lorem_ipsum and dummy_*.
--
-- Masking rules are evaluated with an empty search_path: every object used in
-- a function body is schema-qualified. Functions are LANGUAGE sql so that the
-- simple ones can be inlined by the planner.
-- A random pick from a fake data table draws random() once per call, in an
-- uncorrelated sub-select (an InitPlan), and looks the row up by primary key.

--
-- Private helpers
--

-- n random decimal digits, n <= 45 (n <= 0 gives ''). A plain expression,
-- so that the planner can inline it.
CREATE FUNCTION anon._random_digits(n integer)
RETURNS text
LANGUAGE sql VOLATILE PARALLEL RESTRICTED
AS $$
  SELECT pg_catalog.substr(
           pg_catalog.lpad(pg_catalog.floor(pg_catalog.random() * 1e15::double precision)::bigint::text, 15, '0')
           || CASE WHEN n > 15 THEN
                pg_catalog.lpad(pg_catalog.floor(pg_catalog.random() * 1e15::double precision)::bigint::text, 15, '0')
                || pg_catalog.lpad(pg_catalog.floor(pg_catalog.random() * 1e15::double precision)::bigint::text, 15, '0')
              ELSE '' END,
           1, GREATEST(n, 0))
$$;

-- The Luhn check digit to append to a string of at most 20 decimal digits.
-- Counting from the right (the check digit will take position 0), the digits
-- at odd positions are doubled: translate() maps d to the digit sum of 2d.
-- A position left of the first digit reads '' (counts as 0).
-- A plain expression, so that the planner can inline it.
CREATE FUNCTION anon._luhn_check_digit(digits text)
RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT (10 - (('0' || pg_catalog.substr(pg_catalog.translate(digits, '0123456789', '0246813579'), pg_catalog.length(digits), 1))::integer
               + ('0' || pg_catalog.substr(digits, pg_catalog.length(digits) - 1, 1))::integer
               + ('0' || pg_catalog.substr(pg_catalog.translate(digits, '0123456789', '0246813579'), pg_catalog.length(digits) - 2, 1))::integer
               + ('0' || pg_catalog.substr(digits, pg_catalog.length(digits) - 3, 1))::integer
               + ('0' || pg_catalog.substr(pg_catalog.translate(digits, '0123456789', '0246813579'), pg_catalog.length(digits) - 4, 1))::integer
               + ('0' || pg_catalog.substr(digits, pg_catalog.length(digits) - 5, 1))::integer
               + ('0' || pg_catalog.substr(pg_catalog.translate(digits, '0123456789', '0246813579'), pg_catalog.length(digits) - 6, 1))::integer
               + ('0' || pg_catalog.substr(digits, pg_catalog.length(digits) - 7, 1))::integer
               + ('0' || pg_catalog.substr(pg_catalog.translate(digits, '0123456789', '0246813579'), pg_catalog.length(digits) - 8, 1))::integer
               + ('0' || pg_catalog.substr(digits, pg_catalog.length(digits) - 9, 1))::integer
               + ('0' || pg_catalog.substr(pg_catalog.translate(digits, '0123456789', '0246813579'), pg_catalog.length(digits) - 10, 1))::integer
               + ('0' || pg_catalog.substr(digits, pg_catalog.length(digits) - 11, 1))::integer
               + ('0' || pg_catalog.substr(pg_catalog.translate(digits, '0123456789', '0246813579'), pg_catalog.length(digits) - 12, 1))::integer
               + ('0' || pg_catalog.substr(digits, pg_catalog.length(digits) - 13, 1))::integer
               + ('0' || pg_catalog.substr(pg_catalog.translate(digits, '0123456789', '0246813579'), pg_catalog.length(digits) - 14, 1))::integer
               + ('0' || pg_catalog.substr(digits, pg_catalog.length(digits) - 15, 1))::integer
               + ('0' || pg_catalog.substr(pg_catalog.translate(digits, '0123456789', '0246813579'), pg_catalog.length(digits) - 16, 1))::integer
               + ('0' || pg_catalog.substr(digits, pg_catalog.length(digits) - 17, 1))::integer
               + ('0' || pg_catalog.substr(pg_catalog.translate(digits, '0123456789', '0246813579'), pg_catalog.length(digits) - 18, 1))::integer
               + ('0' || pg_catalog.substr(digits, pg_catalog.length(digits) - 19, 1))::integer) % 10) % 10
$$;

-- Lower-case ASCII letters and digits only: the building block of e-mails.
CREATE FUNCTION anon._email_part(name text)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT pg_catalog.regexp_replace(pg_catalog.lower(name), '[^a-z0-9]+', '', 'g') $$;

-- The md5 hex string a pseudonymous pick is derived from.
CREATE FUNCTION anon._pseudo_hash(seed text, salt text)
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
  SELECT pg_catalog.md5(seed || COALESCE(salt, pg_catalog.current_setting('anon.salt', true), ''))
$$;

-- Row number in 1..max_oid picked by the first 6 hex digits of hex.
CREATE FUNCTION anon._pseudo_oid(hex text, max_oid integer)
RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT 1 + ((max_oid - 1)::bigint
              * ('x' || pg_catalog.substr(hex, 1, 6))::bit(24)::integer
              / 16777215)::integer
$$;

--
-- Fake data: a random row of a fake data table
--

CREATE FUNCTION anon.fake_first_name()
RETURNS text
LANGUAGE sql VOLATILE PARALLEL RESTRICTED
AS $$
  SELECT t.val FROM anon.first_name t
  WHERE t.oid = (SELECT 1 + pg_catalog.floor(pg_catalog.random() * pg_catalog.max(m.oid))::integer
                 FROM anon.first_name m)
$$;

CREATE FUNCTION anon.fake_last_name()
RETURNS text
LANGUAGE sql VOLATILE PARALLEL RESTRICTED
AS $$
  SELECT t.val FROM anon.last_name t
  WHERE t.oid = (SELECT 1 + pg_catalog.floor(pg_catalog.random() * pg_catalog.max(m.oid))::integer
                 FROM anon.last_name m)
$$;

CREATE FUNCTION anon.fake_city()
RETURNS text
LANGUAGE sql VOLATILE PARALLEL RESTRICTED
AS $$
  SELECT t.val FROM anon.city t
  WHERE t.oid = (SELECT 1 + pg_catalog.floor(pg_catalog.random() * pg_catalog.max(m.oid))::integer
                 FROM anon.city m)
$$;

CREATE FUNCTION anon.fake_country()
RETURNS text
LANGUAGE sql VOLATILE PARALLEL RESTRICTED
AS $$
  SELECT t.val FROM anon.country t
  WHERE t.oid = (SELECT 1 + pg_catalog.floor(pg_catalog.random() * pg_catalog.max(m.oid))::integer
                 FROM anon.country m)
$$;

CREATE FUNCTION anon.fake_company()
RETURNS text
LANGUAGE sql VOLATILE PARALLEL RESTRICTED
AS $$
  SELECT t.val FROM anon.company t
  WHERE t.oid = (SELECT 1 + pg_catalog.floor(pg_catalog.random() * pg_catalog.max(m.oid))::integer
                 FROM anon.company m)
$$;

-- first.last1234@domain: about 10^10 possible values, so no collisions in
-- realistic table sizes.
CREATE FUNCTION anon.fake_email()
RETURNS text
LANGUAGE sql VOLATILE PARALLEL RESTRICTED
AS $$
  SELECT anon._email_part(f.val) || '.' || anon._email_part(l.val)
         || pg_catalog.floor(pg_catalog.random() * 10000)::integer::text
         || '@' || d.val
  FROM (SELECT t.val FROM anon.first_name t
        WHERE t.oid = (SELECT 1 + pg_catalog.floor(pg_catalog.random() * pg_catalog.max(m.oid))::integer
                       FROM anon.first_name m)) AS f,
       (SELECT t.val FROM anon.last_name t
        WHERE t.oid = (SELECT 1 + pg_catalog.floor(pg_catalog.random() * pg_catalog.max(m.oid))::integer
                       FROM anon.last_name m)) AS l,
       (SELECT t.val FROM anon.email_domain t
        WHERE t.oid = (SELECT 1 + pg_catalog.floor(pg_catalog.random() * pg_catalog.max(m.oid))::integer
                       FROM anon.email_domain m)) AS d
$$;

CREATE FUNCTION anon.random_zip()
RETURNS text
LANGUAGE sql VOLATILE PARALLEL RESTRICTED
AS $$ SELECT pg_catalog.lpad(pg_catalog.floor(pg_catalog.random() * 100000)::integer::text, 5, '0') $$;

CREATE FUNCTION anon.fake_postcode()
RETURNS text
LANGUAGE sql VOLATILE PARALLEL RESTRICTED
AS $$ SELECT pg_catalog.lpad(pg_catalog.floor(pg_catalog.random() * 100000)::integer::text, 5, '0') $$;

-- '12 Maple Avenue, Springfield 75012'
CREATE FUNCTION anon.fake_address()
RETURNS text
LANGUAGE sql VOLATILE PARALLEL RESTRICTED
AS $$
  SELECT (1 + pg_catalog.floor(pg_catalog.random() * 199))::integer::text
         || ' ' || s.val || ', ' || c.val || ' '
         || pg_catalog.lpad(pg_catalog.floor(pg_catalog.random() * 100000)::integer::text, 5, '0')
  FROM (SELECT t.val FROM anon.street t
        WHERE t.oid = (SELECT 1 + pg_catalog.floor(pg_catalog.random() * pg_catalog.max(m.oid))::integer
                       FROM anon.street m)) AS s,
       (SELECT t.val FROM anon.city t
        WHERE t.oid = (SELECT 1 + pg_catalog.floor(pg_catalog.random() * pg_catalog.max(m.oid))::integer
                       FROM anon.city m)) AS c
$$;

-- French IBAN: 'FR' + check digits + bank (5) + branch (5) + account (11)
-- + RIB key (2). Both the RIB key and the IBAN check digits (ISO 7064
-- mod 97-10) are valid.
CREATE FUNCTION anon.fake_iban()
RETURNS text
LANGUAGE sql VOLATILE PARALLEL RESTRICTED
AS $$
  SELECT 'FR'
         || pg_catalog.lpad((98 - pg_catalog.mod((b.bban || '152700')::numeric, 97))::text, 2, '0')
         || b.bban
  FROM (SELECT r.bank || r.branch || r.account
               || pg_catalog.lpad((97 - pg_catalog.mod(89 * r.bank::numeric
                                                       + 15 * r.branch::numeric
                                                       + 3 * r.account::numeric, 97))::text,
                                  2, '0') AS bban
        FROM (SELECT anon._random_digits(5) AS bank,
                     anon._random_digits(5) AS branch,
                     anon._random_digits(11) AS account) AS r) AS b
$$;

-- SIRET: a Luhn-valid SIREN (9 digits) + NIC (5 digits), the whole 14 digits
-- passing the Luhn check too.
CREATE FUNCTION anon.fake_siret()
RETURNS text
LANGUAGE sql VOLATILE PARALLEL RESTRICTED
AS $$
  SELECT s.p || anon._luhn_check_digit(s.p)::text
  FROM (SELECT x.s8 || anon._luhn_check_digit(x.s8)::text || x.n4 AS p
        FROM (SELECT anon._random_digits(8) AS s8, anon._random_digits(4) AS n4) AS x
        OFFSET 0) AS s
$$;

--
-- Pseudonymization: a deterministic row of a fake data table
--

CREATE FUNCTION anon.pseudo_first_name(seed anyelement, salt text DEFAULT NULL)
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
  SELECT t.val FROM anon.first_name t
  WHERE t.oid = (SELECT anon._pseudo_oid(anon._pseudo_hash(seed::text, salt), pg_catalog.max(m.oid))
                 FROM anon.first_name m)
$$;

CREATE FUNCTION anon.pseudo_last_name(seed anyelement, salt text DEFAULT NULL)
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
  SELECT t.val FROM anon.last_name t
  WHERE t.oid = (SELECT anon._pseudo_oid(anon._pseudo_hash(seed::text, salt), pg_catalog.max(m.oid))
                 FROM anon.last_name m)
$$;

CREATE FUNCTION anon.pseudo_city(seed anyelement, salt text DEFAULT NULL)
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
  SELECT t.val FROM anon.city t
  WHERE t.oid = (SELECT anon._pseudo_oid(anon._pseudo_hash(seed::text, salt), pg_catalog.max(m.oid))
                 FROM anon.city m)
$$;

CREATE FUNCTION anon.pseudo_country(seed anyelement, salt text DEFAULT NULL)
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
  SELECT t.val FROM anon.country t
  WHERE t.oid = (SELECT anon._pseudo_oid(anon._pseudo_hash(seed::text, salt), pg_catalog.max(m.oid))
                 FROM anon.country m)
$$;

CREATE FUNCTION anon.pseudo_company(seed anyelement, salt text DEFAULT NULL)
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
  SELECT t.val FROM anon.company t
  WHERE t.oid = (SELECT anon._pseudo_oid(anon._pseudo_hash(seed::text, salt), pg_catalog.max(m.oid))
                 FROM anon.company m)
$$;

-- first.last1234@domain, every part taken from a different slice of the md5:
-- first name (hex 1-6), last name (7-12), number (13-17), domain (18-23).
CREATE FUNCTION anon.pseudo_email(seed anyelement, salt text DEFAULT NULL)
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
  SELECT anon._email_part(f.val) || '.' || anon._email_part(l.val)
         || (('x' || pg_catalog.substr(h.h, 13, 5))::bit(20)::integer % 10000)::text
         || '@' || d.val
  FROM (SELECT anon._pseudo_hash(seed::text, salt) AS h) AS h
  CROSS JOIN LATERAL
       (SELECT t.val FROM anon.first_name t
        WHERE t.oid = (SELECT anon._pseudo_oid(h.h, pg_catalog.max(m.oid))
                       FROM anon.first_name m)) AS f
  CROSS JOIN LATERAL
       (SELECT t.val FROM anon.last_name t
        WHERE t.oid = (SELECT anon._pseudo_oid(pg_catalog.substr(h.h, 7), pg_catalog.max(m.oid))
                       FROM anon.last_name m)) AS l
  CROSS JOIN LATERAL
       (SELECT t.val FROM anon.email_domain t
        WHERE t.oid = (SELECT anon._pseudo_oid(pg_catalog.substr(h.h, 18), pg_catalog.max(m.oid))
                       FROM anon.email_domain m)) AS d
$$;

--
-- Random values
--

-- l random characters from [a-z0-9].
CREATE FUNCTION anon.random_string(l integer)
RETURNS text
LANGUAGE sql VOLATILE PARALLEL RESTRICTED
AS $$
  SELECT COALESCE(pg_catalog.string_agg(
           pg_catalog.substr('abcdefghijklmnopqrstuvwxyz0123456789',
                             1 + pg_catalog.floor(pg_catalog.random() * 36)::integer, 1), ''), '')
  FROM pg_catalog.generate_series(1, l)
$$;

-- An integer between int_start and int_stop, both included.
CREATE FUNCTION anon.random_int_between(int_start integer, int_stop integer)
RETURNS integer
LANGUAGE sql VOLATILE PARALLEL RESTRICTED
AS $$
  SELECT (LEAST(int_start, int_stop)::bigint
          + pg_catalog.floor(pg_catalog.random()
                             * (pg_catalog.abs(int_stop::bigint - int_start::bigint) + 1))::bigint)::integer
$$;

-- A bigint between int_start and int_stop, both included.
CREATE FUNCTION anon.random_bigint_between(int_start bigint, int_stop bigint)
RETURNS bigint
LANGUAGE sql VOLATILE PARALLEL RESTRICTED
AS $$
  SELECT (LEAST(int_start, int_stop)::numeric
          + pg_catalog.floor(pg_catalog.random()::numeric
                             * (pg_catalog.abs(int_stop::numeric - int_start::numeric) + 1)))::bigint
$$;

-- A timestamp between date_start and date_end.
CREATE FUNCTION anon.random_date_between(date_start timestamp with time zone,
                                         date_end timestamp with time zone)
RETURNS timestamp with time zone
LANGUAGE sql VOLATILE PARALLEL RESTRICTED
AS $$ SELECT date_start + pg_catalog.random() * (date_end - date_start) $$;

-- A timestamp in the last 100 years.
CREATE FUNCTION anon.random_date()
RETURNS timestamp with time zone
LANGUAGE sql VOLATILE PARALLEL RESTRICTED
AS $$ SELECT pg_catalog.now() - pg_catalog.random() * interval '100 years' $$;

-- phone_prefix followed by 9 random digits.
CREATE FUNCTION anon.random_phone(phone_prefix text DEFAULT '0')
RETURNS text
LANGUAGE sql VOLATILE PARALLEL RESTRICTED
AS $$
  SELECT phone_prefix
         || pg_catalog.lpad(pg_catalog.floor(pg_catalog.random() * 1000000000)::integer::text, 9, '0')
$$;

-- A random element of an array (of any number of dimensions).
CREATE FUNCTION anon.random_in(a anyarray)
RETURNS anyelement
LANGUAGE sql VOLATILE PARALLEL RESTRICTED
AS $$
  SELECT u.e FROM pg_catalog.unnest(a) AS u(e)
  OFFSET pg_catalog.floor(pg_catalog.random() * pg_catalog.cardinality(a))::bigint
  LIMIT 1
$$;

--
-- Hashing
--

CREATE FUNCTION anon._unsupported_algorithm(algorithm text)
RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
BEGIN
  RAISE EXCEPTION 'anon: unsupported hash algorithm "%"', algorithm
    USING HINT = 'Use md5, sha224, sha256, sha384 or sha512.',
          ERRCODE = 'invalid_parameter_value';
END
$$;

-- Hex digest of seed || salt. The bytes hashed are the text's bytes in the
-- database encoding (as pgcrypto's digest(text, ...) does).
CREATE FUNCTION anon.digest(seed text, salt text, algorithm text)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT CASE pg_catalog.lower(algorithm)
           WHEN 'md5' THEN pg_catalog.md5(b.v)
           WHEN 'sha224' THEN pg_catalog.encode(pg_catalog.sha224(b.v), 'hex')
           WHEN 'sha256' THEN pg_catalog.encode(pg_catalog.sha256(b.v), 'hex')
           WHEN 'sha384' THEN pg_catalog.encode(pg_catalog.sha384(b.v), 'hex')
           WHEN 'sha512' THEN pg_catalog.encode(pg_catalog.sha512(b.v), 'hex')
           ELSE anon._unsupported_algorithm(algorithm)
         END
  FROM (SELECT pg_catalog.decode(
                 pg_catalog.replace(seed || COALESCE(salt, ''),
                                    pg_catalog.chr(92), pg_catalog.repeat(pg_catalog.chr(92), 2)),
                 'escape') AS v) AS b
$$;

-- Hash with the salt and algorithm of the anon.salt and anon.algorithm
-- settings (default: no salt, sha256).
CREATE FUNCTION anon.hash(seed text)
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
  SELECT anon.digest(seed,
                     COALESCE(pg_catalog.current_setting('anon.salt', true), ''),
                     COALESCE(NULLIF(pg_catalog.current_setting('anon.algorithm', true), ''), 'sha256'))
$$;

-- Hash of seed with a random salt: differs at every call.
CREATE FUNCTION anon.random_hash(seed text)
RETURNS text
LANGUAGE sql VOLATILE PARALLEL RESTRICTED
AS $$
  SELECT anon.digest(seed,
                     pg_catalog.gen_random_uuid()::text,
                     COALESCE(NULLIF(pg_catalog.current_setting('anon.algorithm', true), ''), 'sha256'))
$$;

--
-- Partial scrambling
--

-- partial('123456789', 1, '***', 3) = '1***789'. Strings shorter than
-- prefix + suffix come out whole around the padding (as in PostgreSQL
-- Anonymizer); a negative prefix or suffix counts as 0.
CREATE FUNCTION anon.partial(ov text, prefix integer, padding text, suffix integer)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT CASE WHEN prefix IS NOT NULL AND suffix IS NOT NULL THEN
           pg_catalog.substr(ov, 1, GREATEST(prefix, 0))
           || padding
           || pg_catalog.substr(ov, pg_catalog.length(ov) - GREATEST(suffix, 0) + 1, GREATEST(suffix, 0))
         END
$$;

-- partial_email('daamien@gmail.com') = 'da******@gm******.com'
CREATE FUNCTION anon.partial_email(ov text)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT CASE
           WHEN pg_catalog.strpos(ov, '@') = 0 THEN pg_catalog.substr(ov, 1, 2) || '******'
           ELSE pg_catalog.substr(e.local_part, 1, 2) || '******@'
                || pg_catalog.substr(e.domain, 1, 2) || '******'
                || COALESCE('.' || pg_catalog.substring(e.domain, '[.]([^.]*)$'), '')
         END
  FROM (SELECT pg_catalog.substring(ov, '^(.*)@') AS local_part,
               pg_catalog.substring(ov, '@([^@]*)$') AS domain) AS e
$$;

--
-- Noise: value * (1 +/- up to ratio); dates shifted by up to +/- noise_range
--

CREATE FUNCTION anon.noise(noise_value smallint, ratio double precision)
RETURNS smallint
LANGUAGE sql VOLATILE PARALLEL RESTRICTED
AS $$
  SELECT CASE WHEN noise_value IS NOT NULL AND ratio IS NOT NULL THEN
           LEAST(GREATEST(pg_catalog.round(noise_value * (1.0 + (2.0 * pg_catalog.random() - 1.0) * ratio)),
                          -32768), 32767)::smallint
         END
$$;

CREATE FUNCTION anon.noise(noise_value integer, ratio double precision)
RETURNS integer
LANGUAGE sql VOLATILE PARALLEL RESTRICTED
AS $$
  SELECT CASE WHEN noise_value IS NOT NULL AND ratio IS NOT NULL THEN
           LEAST(GREATEST(pg_catalog.round(noise_value * (1.0 + (2.0 * pg_catalog.random() - 1.0) * ratio)),
                          -2147483648), 2147483647)::integer
         END
$$;

CREATE FUNCTION anon.noise(noise_value bigint, ratio double precision)
RETURNS bigint
LANGUAGE sql VOLATILE PARALLEL RESTRICTED
AS $$
  SELECT CASE WHEN noise_value IS NOT NULL AND ratio IS NOT NULL THEN
           LEAST(GREATEST(pg_catalog.round(noise_value::numeric
                                           * (1.0 + (2.0 * pg_catalog.random() - 1.0) * ratio)::numeric),
                          -9223372036854775808), 9223372036854775807)::bigint
         END
$$;

CREATE FUNCTION anon.noise(noise_value real, ratio double precision)
RETURNS real
LANGUAGE sql VOLATILE PARALLEL RESTRICTED
AS $$ SELECT (noise_value * (1.0 + (2.0 * pg_catalog.random() - 1.0) * ratio))::real $$;

CREATE FUNCTION anon.noise(noise_value double precision, ratio double precision)
RETURNS double precision
LANGUAGE sql VOLATILE PARALLEL RESTRICTED
AS $$ SELECT noise_value * (1.0 + (2.0 * pg_catalog.random() - 1.0) * ratio) $$;

-- Keeps the scale of the original value.
CREATE FUNCTION anon.noise(noise_value numeric, ratio double precision)
RETURNS numeric
LANGUAGE sql VOLATILE PARALLEL RESTRICTED
AS $$
  SELECT pg_catalog.round(noise_value * (1.0 + (2.0 * pg_catalog.random() - 1.0) * ratio)::numeric,
                          pg_catalog.scale(noise_value))
$$;

CREATE FUNCTION anon.dnoise(noise_value date, noise_range interval)
RETURNS date
LANGUAGE sql VOLATILE PARALLEL RESTRICTED
AS $$ SELECT (noise_value + (2.0 * pg_catalog.random() - 1.0) * noise_range)::date $$;

CREATE FUNCTION anon.dnoise(noise_value timestamp without time zone, noise_range interval)
RETURNS timestamp without time zone
LANGUAGE sql VOLATILE PARALLEL RESTRICTED
AS $$ SELECT noise_value + (2.0 * pg_catalog.random() - 1.0) * noise_range $$;

CREATE FUNCTION anon.dnoise(noise_value timestamp with time zone, noise_range interval)
RETURNS timestamp with time zone
LANGUAGE sql VOLATILE PARALLEL RESTRICTED
AS $$ SELECT noise_value + (2.0 * pg_catalog.random() - 1.0) * noise_range $$;

--
-- Generalization: the range of width step that contains the value
--

-- The interval matching a date_trunc() field name ('decade' -> 10 years).
CREATE FUNCTION anon._generalize_step(step text)
RETURNS interval
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT CASE pg_catalog.regexp_replace(pg_catalog.lower(pg_catalog.btrim(step)), 's$', '')
           WHEN 'microsecond' THEN interval '1 microsecond'
           WHEN 'millisecond' THEN interval '1 millisecond'
           WHEN 'second' THEN interval '1 second'
           WHEN 'minute' THEN interval '1 minute'
           WHEN 'hour' THEN interval '1 hour'
           WHEN 'day' THEN interval '1 day'
           WHEN 'week' THEN interval '7 days'
           WHEN 'month' THEN interval '1 month'
           WHEN 'quarter' THEN interval '3 months'
           WHEN 'year' THEN interval '1 year'
           WHEN 'decade' THEN interval '10 years'
           WHEN 'century' THEN interval '100 years'
           WHEN 'centurie' THEN interval '100 years'
           WHEN 'millennium' THEN interval '1000 years'
           WHEN 'millennia' THEN interval '1000 years'
           ELSE ('1 ' || step)::interval
         END
$$;

CREATE FUNCTION anon.generalize_int4range(val integer, step integer DEFAULT 10)
RETURNS int4range
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
  SELECT pg_catalog.int4range(
           CASE WHEN b.lo >= -2147483648 THEN b.lo::integer END,
           CASE WHEN b.lo + step <= 2147483647 THEN (b.lo + step)::integer END)
  FROM (SELECT val::numeric - pg_catalog.mod(pg_catalog.mod(val::numeric, step) + step, step) AS lo) AS b
$$;

CREATE FUNCTION anon.generalize_int8range(val bigint, step bigint DEFAULT 10)
RETURNS int8range
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
  SELECT pg_catalog.int8range(
           CASE WHEN b.lo >= -9223372036854775808 THEN b.lo::bigint END,
           CASE WHEN b.lo + step <= 9223372036854775807 THEN (b.lo + step)::bigint END)
  FROM (SELECT val::numeric - pg_catalog.mod(pg_catalog.mod(val::numeric, step) + step, step) AS lo) AS b
$$;

CREATE FUNCTION anon.generalize_numrange(val numeric, step integer DEFAULT 10)
RETURNS numrange
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
  SELECT pg_catalog.numrange(b.lo, b.lo + step)
  FROM (SELECT val - pg_catalog.mod(pg_catalog.mod(val, step) + step, step) AS lo) AS b
$$;

-- The timestamp/date versions are plain expressions (not STRICT, so that the
-- planner can inline them; NULL in still gives NULL out).
CREATE FUNCTION anon.generalize_tsrange(val timestamp without time zone, step text DEFAULT 'decade')
RETURNS tsrange
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT CASE WHEN val IS NOT NULL AND step IS NOT NULL THEN
           pg_catalog.tsrange(pg_catalog.date_trunc(step, val),
                              pg_catalog.date_trunc(step, val) + anon._generalize_step(step))
         END
$$;

CREATE FUNCTION anon.generalize_tstzrange(val timestamp with time zone, step text DEFAULT 'decade')
RETURNS tstzrange
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
  SELECT CASE WHEN val IS NOT NULL AND step IS NOT NULL THEN
           pg_catalog.tstzrange(pg_catalog.date_trunc(step, val),
                                pg_catalog.date_trunc(step, val) + anon._generalize_step(step))
         END
$$;

-- Steps shorter than a day give the day itself.
CREATE FUNCTION anon.generalize_daterange(val date, step text DEFAULT 'decade')
RETURNS daterange
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT CASE WHEN val IS NOT NULL AND step IS NOT NULL THEN
           pg_catalog.daterange(
             pg_catalog.date_trunc(step, val::timestamp without time zone)::date,
             (pg_catalog.date_trunc(step, val::timestamp without time zone)
              + GREATEST(anon._generalize_step(step), interval '1 day'))::date)
         END
$$;

--
-- Lorem ipsum
--

-- characters > 0: that many characters of words; else words > 0: that many
-- words; else that many paragraphs (3 to 6 sentences of 4 to 12 words), one
-- per line. Words are random picks from anon.lorem_ipsum.
-- (The random lengths are drawn in MATERIALIZED CTEs, so each is evaluated
-- exactly once; generate_series() bounds are constants where possible, which
-- keeps the row estimates, hence the plan cost, small: no JIT.)
CREATE FUNCTION anon.lorem_ipsum(paragraphs integer DEFAULT 5,
                                 words integer DEFAULT 0,
                                 characters integer DEFAULT 0)
RETURNS text
LANGUAGE sql VOLATILE PARALLEL RESTRICTED
AS $$
  WITH w AS MATERIALIZED (
    SELECT pg_catalog.array_agg(t.val ORDER BY t.oid) AS a FROM anon.lorem_ipsum t
  ),
  flat AS (
    SELECT pg_catalog.string_agg(
             w.a[1 + pg_catalog.floor(pg_catalog.random() * pg_catalog.cardinality(w.a))::integer],
             ' ' ORDER BY g.i) AS txt
    FROM w,
         pg_catalog.generate_series(1, CASE WHEN characters > 0 THEN characters / 3 + 1
                                            ELSE words END) AS g(i)
    WHERE characters > 0 OR words > 0
  ),
  -- paragraphs: 3 to 6 sentences each
  par AS MATERIALIZED (
    SELECT p.i, 3 + pg_catalog.floor(pg_catalog.random() * 4)::integer AS nsentences
    FROM pg_catalog.generate_series(1, paragraphs) AS p(i)
    WHERE NOT (characters > 0 OR words > 0)
  ),
  -- sentences: 4 to 12 words each
  sen AS MATERIALIZED (
    SELECT par.i AS pi, s.i AS si, 4 + pg_catalog.floor(pg_catalog.random() * 9)::integer AS nwords
    FROM par JOIN pg_catalog.generate_series(1, 6) AS s(i) ON s.i <= par.nsentences
  ),
  sentence AS (
    SELECT sen.pi, sen.si,
           pg_catalog.string_agg(
             w.a[1 + pg_catalog.floor(pg_catalog.random() * pg_catalog.cardinality(w.a))::integer],
             ' ' ORDER BY x.i) AS txt
    FROM sen
    JOIN pg_catalog.generate_series(1, 12) AS x(i) ON x.i <= sen.nwords
    CROSS JOIN w
    GROUP BY sen.pi, sen.si
  ),
  paragraph AS (
    SELECT sentence.pi,
           pg_catalog.string_agg(
             pg_catalog.upper(pg_catalog.substr(sentence.txt, 1, 1))
             || pg_catalog.substr(sentence.txt, 2) || '.',
             ' ' ORDER BY sentence.si) AS txt
    FROM sentence
    GROUP BY sentence.pi
  )
  SELECT COALESCE(
           CASE WHEN characters > 0 THEN pg_catalog.substr(f.txt, 1, characters)
                WHEN words > 0 THEN f.txt
                ELSE (SELECT pg_catalog.string_agg(paragraph.txt, pg_catalog.chr(10) ORDER BY paragraph.pi)
                      FROM paragraph)
           END, '')
  FROM flat f
$$;

--
-- Dummy data (PostgreSQL Anonymizer 2.x): built from the word lists of
-- data.sql, never from the tables, so they need no anon.init().
-- The list functions are IMMUTABLE: the planner folds them into constants.
--

CREATE FUNCTION anon.dummy_first_name()
RETURNS text
LANGUAGE sql VOLATILE PARALLEL RESTRICTED
AS $$
  SELECT (anon._first_name_list())[1 + pg_catalog.floor(pg_catalog.random()
                                   * pg_catalog.cardinality(anon._first_name_list()))::integer]
$$;

CREATE FUNCTION anon.dummy_last_name()
RETURNS text
LANGUAGE sql VOLATILE PARALLEL RESTRICTED
AS $$
  SELECT (anon._last_name_list())[1 + pg_catalog.floor(pg_catalog.random()
                                  * pg_catalog.cardinality(anon._last_name_list()))::integer]
$$;

CREATE FUNCTION anon.dummy_name()
RETURNS text
LANGUAGE sql VOLATILE PARALLEL RESTRICTED
AS $$
  SELECT (anon._first_name_list())[1 + pg_catalog.floor(pg_catalog.random()
                                   * pg_catalog.cardinality(anon._first_name_list()))::integer]
         || ' '
         || (anon._last_name_list())[1 + pg_catalog.floor(pg_catalog.random()
                                     * pg_catalog.cardinality(anon._last_name_list()))::integer]
$$;

CREATE FUNCTION anon.dummy_city_name()
RETURNS text
LANGUAGE sql VOLATILE PARALLEL RESTRICTED
AS $$
  SELECT (anon._city_list())[1 + pg_catalog.floor(pg_catalog.random()
                             * pg_catalog.cardinality(anon._city_list()))::integer]
$$;

CREATE FUNCTION anon.dummy_street_name()
RETURNS text
LANGUAGE sql VOLATILE PARALLEL RESTRICTED
AS $$
  SELECT (anon._street_list())[1 + pg_catalog.floor(pg_catalog.random()
                               * pg_catalog.cardinality(anon._street_list()))::integer]
$$;

CREATE FUNCTION anon.dummy_company_name()
RETURNS text
LANGUAGE sql VOLATILE PARALLEL RESTRICTED
AS $$
  SELECT (anon._last_name_list())[1 + pg_catalog.floor(pg_catalog.random()
                                  * pg_catalog.cardinality(anon._last_name_list()))::integer]
         || ' '
         || (anon._company_suffix_list())[1 + pg_catalog.floor(pg_catalog.random()
                                          * pg_catalog.cardinality(anon._company_suffix_list()))::integer]
$$;

CREATE FUNCTION anon.dummy_zip_code()
RETURNS text
LANGUAGE sql VOLATILE PARALLEL RESTRICTED
AS $$ SELECT pg_catalog.lpad(pg_catalog.floor(pg_catalog.random() * 100000)::integer::text, 5, '0') $$;

-- first.last1234@<free mail domain>
CREATE FUNCTION anon.dummy_free_email()
RETURNS text
LANGUAGE sql VOLATILE PARALLEL RESTRICTED
AS $$
  SELECT anon._email_part((anon._first_name_list())[1 + pg_catalog.floor(pg_catalog.random()
                          * pg_catalog.cardinality(anon._first_name_list()))::integer])
         || '.'
         || anon._email_part((anon._last_name_list())[1 + pg_catalog.floor(pg_catalog.random()
                             * pg_catalog.cardinality(anon._last_name_list()))::integer])
         || pg_catalog.floor(pg_catalog.random() * 10000)::integer::text
         || '@'
         || (anon._free_email_domain_list())[1 + pg_catalog.floor(pg_catalog.random()
                                             * pg_catalog.cardinality(anon._free_email_domain_list()))::integer]
$$;

-- first.last1234@example.com / .org / .net
CREATE FUNCTION anon.dummy_safe_email()
RETURNS text
LANGUAGE sql VOLATILE PARALLEL RESTRICTED
AS $$
  SELECT anon._email_part((anon._first_name_list())[1 + pg_catalog.floor(pg_catalog.random()
                          * pg_catalog.cardinality(anon._first_name_list()))::integer])
         || '.'
         || anon._email_part((anon._last_name_list())[1 + pg_catalog.floor(pg_catalog.random()
                             * pg_catalog.cardinality(anon._last_name_list()))::integer])
         || pg_catalog.floor(pg_catalog.random() * 10000)::integer::text
         || '@'
         || (anon._safe_email_domain_list())[1 + pg_catalog.floor(pg_catalog.random()
                                             * pg_catalog.cardinality(anon._safe_email_domain_list()))::integer]
$$;

-- first_last123
CREATE FUNCTION anon.dummy_username()
RETURNS text
LANGUAGE sql VOLATILE PARALLEL RESTRICTED
AS $$
  SELECT anon._email_part((anon._first_name_list())[1 + pg_catalog.floor(pg_catalog.random()
                          * pg_catalog.cardinality(anon._first_name_list()))::integer])
         || '_'
         || anon._email_part((anon._last_name_list())[1 + pg_catalog.floor(pg_catalog.random()
                             * pg_catalog.cardinality(anon._last_name_list()))::integer])
         || pg_catalog.floor(pg_catalog.random() * 1000)::integer::text
$$;

-- '+1-555-123-4567'
CREATE FUNCTION anon.dummy_phone_number()
RETURNS text
LANGUAGE sql VOLATILE PARALLEL RESTRICTED
AS $$
  SELECT '+1-555-'
         || pg_catalog.lpad(pg_catalog.floor(pg_catalog.random() * 1000)::integer::text, 3, '0')
         || '-'
         || pg_catalog.lpad(pg_catalog.floor(pg_catalog.random() * 10000)::integer::text, 4, '0')
$$;

-- '+1-234-555-6789'
CREATE FUNCTION anon.dummy_cell_number()
RETURNS text
LANGUAGE sql VOLATILE PARALLEL RESTRICTED
AS $$
  SELECT '+1-'
         || (200 + pg_catalog.floor(pg_catalog.random() * 800))::integer::text
         || '-555-'
         || pg_catalog.lpad(pg_catalog.floor(pg_catalog.random() * 10000)::integer::text, 4, '0')
$$;

CREATE FUNCTION anon.dummy_ipv4()
RETURNS text
LANGUAGE sql VOLATILE PARALLEL RESTRICTED
AS $$
  SELECT (1 + pg_catalog.floor(pg_catalog.random() * 254))::integer::text
         || '.' || pg_catalog.floor(pg_catalog.random() * 256)::integer::text
         || '.' || pg_catalog.floor(pg_catalog.random() * 256)::integer::text
         || '.' || (1 + pg_catalog.floor(pg_catalog.random() * 254))::integer::text
$$;

CREATE FUNCTION anon.dummy_uuidv4()
RETURNS uuid
LANGUAGE sql VOLATILE PARALLEL SAFE
AS $$ SELECT pg_catalog.gen_random_uuid() $$;

-- 16 digits starting with 4 (Visa-like), passing the Luhn check.
CREATE FUNCTION anon.dummy_credit_card_number()
RETURNS text
LANGUAGE sql VOLATILE PARALLEL RESTRICTED
AS $$
  SELECT c.p || anon._luhn_check_digit(c.p)::text
  FROM (SELECT '4' || anon._random_digits(14) AS p) AS c
$$;
