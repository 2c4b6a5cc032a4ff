-- anon-compat: data.sql
-- Fake data sets used by the fake_*, pseudo_* and dummy_* functions.
--
-- Nothing is loaded from files: every data set is built in SQL from the small
-- word and syllable lists below. The lists are returned by IMMUTABLE helper
-- functions (anon._*_list()), which serve two purposes:
--   * anon.init() copies them into the tables anon.first_name, anon.last_name,
--     ... (oid integer PRIMARY KEY dense from 1 to n, val text), so a random
--     or pseudonymous pick is a single primary-key lookup;
--   * the dummy_* functions read the same lists directly, so they work even
--     when the tables are empty (anon.reset() was called).
-- Each list is shuffled in a fixed order (md5 of the value), so the tables get
-- the same content at every anon.init(): pseudo_* results stay stable across
-- re-initialisations.

--
-- Word lists
--

-- First names: syllable combinations (an onset ending with a vowel + an ending
-- starting with a consonant, and the reverse) plus common real first names.
CREATE FUNCTION anon._first_name_list()
RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT pg_catalog.array_agg(n.v ORDER BY pg_catalog.md5(n.v), n.v)
  FROM (
    SELECT DISTINCT g.v
    FROM (
      SELECT o.s || e.s AS v
      FROM pg_catalog.unnest(ARRAY[
             'Da','Ja','Ka','La','Ma','Mi','Na','No','Ro','Sa','Se',
             'Ti','Vi','Lu','Le','Fe','Ga','Jo','Cla','Ele','Ca','Ali']) AS o(s)
      CROSS JOIN pg_catalog.unnest(ARRAY[
             'na','ra','la','nia','lie','nie','rin','ron','ria','rel','lan',
             'vin','son','ris','dra','mon','ric','mas','tha','lia','ren',
             'ssa','lla','nor','ley']) AS e(s)
      UNION ALL
      SELECT o.s || e.s
      FROM pg_catalog.unnest(ARRAY[
             'Al','An','Ar','Bel','Ben','Car','El','Em','Hel','Is','Ol',
             'Ed','Ger','Mar','Sam','Ros','Iv','Hen','Fran','Jul','Leon','Ad']) AS o(s)
      CROSS JOIN pg_catalog.unnest(ARRAY[
             'a','an','ia','ie','ina','el','ella','en','er','ette','ian',
             'ic','ine','io','is','ius','o','on','ora','us','y','ita',
             'ard','ald','ert']) AS e(s)
      UNION ALL
      SELECT r.s
      FROM pg_catalog.unnest(ARRAY[
             'James','John','Robert','Michael','William','David','Richard',
             'Joseph','Thomas','Charles','Daniel','Matthew','Anthony','Mark',
             'Steven','Paul','Andrew','Joshua','Kevin','Brian','George',
             'Edward','Ronald','Timothy','Jason','Jeffrey','Ryan','Jacob',
             'Gary','Nicholas','Eric','Jonathan','Stephen','Larry','Justin',
             'Scott','Brandon','Benjamin','Samuel','Gregory','Patrick',
             'Peter','Henry','Arthur','Louis','Hugo','Lucas','Nathan',
             'Victor','Oscar','Felix','Simon','Martin','Pierre','Antoine',
             'Mary','Patricia','Jennifer','Linda','Elizabeth','Barbara',
             'Susan','Jessica','Sarah','Karen','Nancy','Lisa','Betty',
             'Margaret','Sandra','Ashley','Kimberly','Emily','Donna',
             'Michelle','Dorothy','Carol','Amanda','Melissa','Deborah',
             'Stephanie','Rebecca','Sharon','Laura','Cynthia','Kathleen',
             'Amy','Angela','Helen','Anna','Brenda','Pamela','Nicole',
             'Emma','Samantha','Katherine','Christine','Rachel','Chloe',
             'Camille','Manon','Julie','Sophie','Claire','Alice','Louise',
             'Ines','Lea','Zoe','Olivia','Grace','Lucy','Hannah']) AS r(s)
    ) AS g
  ) AS n
$$;

-- Last names: syllable combinations plus common real last names.
CREATE FUNCTION anon._last_name_list()
RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT pg_catalog.array_agg(n.v ORDER BY pg_catalog.md5(n.v), n.v)
  FROM (
    SELECT DISTINCT g.v
    FROM (
      SELECT p.s || s.s AS v
      FROM pg_catalog.unnest(ARRAY[
             'Al','And','Ash','Bar','Bel','Ben','Black','Brad','Bram','Brent',
             'Bur','Cal','Cam','Car','Chad','Clay','Col','Cor','Craw','Dal',
             'Dar','Dun','Ed','El','Fair','Far','Fen','Fitz','Gar','Gil',
             'Gold','Gor','Gran','Ham','Har','Hart','Hol','Hun','Kel','Ken',
             'Kings','Lam','Lang','Lind','Mad','Mar','Mer','Mil','Mor','New',
             'Nor','Os','Pal','Par','Pen','Pres','Ram','Red','Rich','Rob',
             'Ros','Ruth','Sand','Shel','Sher','Stan','Stock','Sum','Thorn',
             'Tom','Wal','War','Wes','Whit','Wil','Win']) AS p(s)
      CROSS JOIN pg_catalog.unnest(ARRAY[
             'bert','bury','by','combe','cott','dale','den','ders','don',
             'er','ers','ett','ey','field','ford','gate','good','ham','hart',
             'hill','holm','hurst','ing','ington','ins','kins','land','ley',
             'lin','ling','lock','low','man','mann','mer','more','ner',
             'ridge','rick','ron','row','sby','sen','ser','shaw','son',
             'stead','stein','ston','stone','ter','ton','ville','wall','ward',
             'way','well','wick','win','wood','worth','wright','ard','ell',
             'ock','ow','ly','nell','ney','ams','ot','ier']) AS s(s)
      UNION ALL
      SELECT r.s
      FROM pg_catalog.unnest(ARRAY[
             'Smith','Johnson','Williams','Brown','Jones','Garcia','Miller',
             'Davis','Rodriguez','Martinez','Hernandez','Lopez','Gonzalez',
             'Wilson','Anderson','Taylor','Moore','Jackson','Martin','Lee',
             'Thompson','White','Harris','Sanchez','Clark','Ramirez','Lewis',
             'Robinson','Walker','Young','Allen','King','Wright','Scott',
             'Torres','Nguyen','Hill','Flores','Green','Adams','Nelson',
             'Baker','Hall','Rivera','Campbell','Mitchell','Carter','Roberts',
             'Bernard','Dubois','Durand','Lefebvre','Leroy','Moreau','Simon',
             'Laurent','Michel','Fournier','Girard','Bonnet','Dupont',
             'Lambert','Fontaine','Rousseau','Vincent','Muller','Schmidt',
             'Schneider','Fischer','Weber','Meyer','Wagner','Becker','Rossi',
             'Russo','Ferrari','Esposito','Bianchi','Romano','Colombo']) AS r(s)
    ) AS g
  ) AS n
$$;

-- Cities: prefix + suffix ('Springfield', 'Riverside', ...).
CREATE FUNCTION anon._city_list()
RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT pg_catalog.array_agg(n.v ORDER BY pg_catalog.md5(n.v), n.v)
  FROM (
    SELECT DISTINCT p.s || s.s AS v
    FROM pg_catalog.unnest(ARRAY[
           'Spring','River','Lake','North','South','East','West','Green',
           'Fair','Oak','Maple','Ash','Elm','Cedar','Pine','Stone','Rock',
           'Brook','Clear','Silver','Gold','Red','White','Black','New',
           'Mill','Bridge','Wood','Glen','High','Sun','Bay','Port','King',
           'Queen','Mount','Harbor','Cliff','Fox','Deer','Bright','Crystal',
           'Haven','Hazel']) AS p(s)
    CROSS JOIN pg_catalog.unnest(ARRAY[
           'field','ville','ton','wood','dale','burg','ford','port','view',
           'haven','side','mont','bury','ham','ridge','brook','land','stead',
           'mouth','crest','gate','hill','wick','water','vale']) AS s(s)
    WHERE pg_catalog.lower(p.s) <> s.s
  ) AS n
$$;

-- Streets: name + street type ('Maple Avenue', ...).
CREATE FUNCTION anon._street_list()
RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT pg_catalog.array_agg(n.v ORDER BY pg_catalog.md5(n.v), n.v)
  FROM (
    SELECT DISTINCT p.s || ' ' || s.s AS v
    FROM pg_catalog.unnest(ARRAY[
           'Maple','Oak','Cedar','Pine','Elm','Birch','Willow','Chestnut',
           'Walnut','Hickory','Mill','Church','Park','Lake','River','Hill',
           'Forest','Meadow','Spring','Sunset','Highland','Valley','Bridge',
           'Station','Market','King','Queen','Prince','Victoria','Washington',
           'Lincoln','Jefferson','Franklin','Madison','Garden','Orchard',
           'Harbor','Ocean','Bay','Cherry','Rose','Lilac','Magnolia','Poplar',
           'Aspen','Spruce','Sycamore','Juniper','Laurel','Holly','Ivy',
           'Jasmine','Heather','Fox','Deer','Eagle','Hawk','Robin','Sparrow',
           'Wren','Golden','Silver','Green','Union','Liberty','Central',
           'Main','High','School','College','Academy','Castle','Abbey',
           'Chapel','Windmill','Canal','Quarry','Meadowbrook','Brookside',
           'Lakeview','Hillcrest','Riverside','Fairview','Pleasant','Grove',
           'Summit','Ridge','Cypress','Dogwood','Beacon','Lighthouse',
           'Harvest','Primrose','Thistle']) AS p(s)
    CROSS JOIN pg_catalog.unnest(ARRAY[
           'Street','Avenue','Road','Lane','Boulevard','Drive','Court',
           'Place','Way','Square','Terrace','Close']) AS s(s)
  ) AS n
$$;

CREATE FUNCTION anon._country_list()
RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT ARRAY[
    'Argentina','Australia','Austria','Belgium','Brazil','Bulgaria',
    'Canada','Chile','China','Colombia','Croatia','Czechia','Denmark',
    'Egypt','Estonia','Finland','France','Germany','Greece','Hungary',
    'Iceland','India','Indonesia','Ireland','Israel','Italy','Japan',
    'Kenya','Latvia','Lithuania','Luxembourg','Malaysia','Mexico',
    'Morocco','Netherlands','New Zealand','Nigeria','Norway','Peru',
    'Philippines','Poland','Portugal','Romania','Senegal','Singapore',
    'Slovakia','Slovenia','South Africa','South Korea','Spain','Sweden',
    'Switzerland','Thailand','Tunisia','Turkey','Ukraine',
    'United Kingdom','United States','Uruguay','Vietnam']::text[]
$$;

CREATE FUNCTION anon._company_suffix_list()
RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT ARRAY['Ltd','Inc','GmbH','SA','Group','Partners','LLC','Corp',
               'Holdings','Industries','& Co','Associates']::text[]
$$;

-- Companies: one per last name, with a suffix chosen by position.
CREATE FUNCTION anon._company_list()
RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT pg_catalog.array_agg(
           l.v || ' ' || s.a[1 + (l.i % pg_catalog.cardinality(s.a))::integer]
           ORDER BY l.i)
  FROM pg_catalog.unnest(anon._last_name_list()) WITH ORDINALITY AS l(v, i)
  CROSS JOIN (SELECT anon._company_suffix_list() AS a) AS s
$$;

CREATE FUNCTION anon._safe_email_domain_list()
RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT ARRAY['example.com','example.org','example.net']::text[] $$;

CREATE FUNCTION anon._free_email_domain_list()
RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT ARRAY['gmail.com','yahoo.com','hotmail.com','outlook.com']::text[] $$;

CREATE FUNCTION anon._lorem_ipsum_list()
RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT ARRAY[
    'lorem','ipsum','dolor','sit','amet','consectetur','adipiscing','elit',
    'sed','do','eiusmod','tempor','incididunt','ut','labore','et','dolore',
    'magna','aliqua','enim','ad','minim','veniam','quis','nostrud',
    'exercitation','ullamco','laboris','nisi','aliquip','ex','ea','commodo',
    'consequat','duis','aute','irure','in','reprehenderit','voluptate',
    'velit','esse','cillum','fugiat','nulla','pariatur','excepteur','sint',
    'occaecat','cupidatat','non','proident','sunt','culpa','qui','officia',
    'deserunt','mollit','anim','id','est','laborum','curabitur','pretium',
    'tincidunt','lacus','nunc','pulvinar','sapien','ligula','vitae',
    'integer','nec','odio','praesent','libero']::text[]
$$;

--
-- Tables
--

CREATE TABLE anon.first_name (oid integer PRIMARY KEY, val text NOT NULL);
CREATE TABLE anon.last_name (oid integer PRIMARY KEY, val text NOT NULL);
CREATE TABLE anon.city (oid integer PRIMARY KEY, val text NOT NULL);
CREATE TABLE anon.country (oid integer PRIMARY KEY, val text NOT NULL);
CREATE TABLE anon.company (oid integer PRIMARY KEY, val text NOT NULL);
CREATE TABLE anon.street (oid integer PRIMARY KEY, val text NOT NULL);
CREATE TABLE anon.email_domain (oid integer PRIMARY KEY, val text NOT NULL);
CREATE TABLE anon.lorem_ipsum (oid integer PRIMARY KEY, val text NOT NULL);

COMMENT ON TABLE anon.first_name IS 'Fake first names (generated by anon.init())';
COMMENT ON TABLE anon.last_name IS 'Fake last names (generated by anon.init())';
COMMENT ON TABLE anon.city IS 'Fake city names (generated by anon.init())';
COMMENT ON TABLE anon.country IS 'Country names (loaded by anon.init())';
COMMENT ON TABLE anon.company IS 'Fake company names (generated by anon.init())';
COMMENT ON TABLE anon.street IS 'Fake street names (generated by anon.init())';
COMMENT ON TABLE anon.email_domain IS 'E-mail domains (loaded by anon.init())';
COMMENT ON TABLE anon.lorem_ipsum IS 'Lorem ipsum words (loaded by anon.init())';

-- The data is fake: anyone running a masking function may read it.
GRANT SELECT ON anon.first_name, anon.last_name, anon.city, anon.country,
                anon.company, anon.street, anon.email_domain, anon.lorem_ipsum
  TO PUBLIC;

--
-- (Re)initialisation
--

-- Fills every fake data table; idempotent (truncates first).
CREATE FUNCTION anon.init()
RETURNS boolean
LANGUAGE sql VOLATILE PARALLEL UNSAFE
AS $$
  TRUNCATE anon.first_name, anon.last_name, anon.city, anon.country,
           anon.company, anon.street, anon.email_domain, anon.lorem_ipsum;

  INSERT INTO anon.first_name (oid, val)
  SELECT u.i::integer, u.v FROM pg_catalog.unnest(anon._first_name_list()) WITH ORDINALITY AS u(v, i);

  INSERT INTO anon.last_name (oid, val)
  SELECT u.i::integer, u.v FROM pg_catalog.unnest(anon._last_name_list()) WITH ORDINALITY AS u(v, i);

  INSERT INTO anon.city (oid, val)
  SELECT u.i::integer, u.v FROM pg_catalog.unnest(anon._city_list()) WITH ORDINALITY AS u(v, i);

  INSERT INTO anon.country (oid, val)
  SELECT u.i::integer, u.v FROM pg_catalog.unnest(anon._country_list()) WITH ORDINALITY AS u(v, i);

  INSERT INTO anon.company (oid, val)
  SELECT u.i::integer, u.v FROM pg_catalog.unnest(anon._company_list()) WITH ORDINALITY AS u(v, i);

  INSERT INTO anon.street (oid, val)
  SELECT u.i::integer, u.v FROM pg_catalog.unnest(anon._street_list()) WITH ORDINALITY AS u(v, i);

  INSERT INTO anon.email_domain (oid, val)
  SELECT u.i::integer, u.v
  FROM pg_catalog.unnest(anon._safe_email_domain_list()
                         || anon._free_email_domain_list()) WITH ORDINALITY AS u(v, i);

  INSERT INTO anon.lorem_ipsum (oid, val)
  SELECT u.i::integer, u.v FROM pg_catalog.unnest(anon._lorem_ipsum_list()) WITH ORDINALITY AS u(v, i);

  SELECT true;
$$;

-- Empties every fake data table (the dummy_* functions keep working).
CREATE FUNCTION anon.reset()
RETURNS boolean
LANGUAGE sql VOLATILE PARALLEL UNSAFE
AS $$
  TRUNCATE anon.first_name, anon.last_name, anon.city, anon.country,
           anon.company, anon.street, anon.email_domain, anon.lorem_ipsum;
  SELECT true;
$$;

-- True when every fake data table holds data.
CREATE FUNCTION anon.is_initialized()
RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
  SELECT EXISTS (SELECT 1 FROM anon.first_name)
     AND EXISTS (SELECT 1 FROM anon.last_name)
     AND EXISTS (SELECT 1 FROM anon.city)
     AND EXISTS (SELECT 1 FROM anon.country)
     AND EXISTS (SELECT 1 FROM anon.company)
     AND EXISTS (SELECT 1 FROM anon.street)
     AND EXISTS (SELECT 1 FROM anon.email_domain)
     AND EXISTS (SELECT 1 FROM anon.lorem_ipsum)
$$;

-- Load the data at CREATE EXTENSION time.
SELECT anon.init();
