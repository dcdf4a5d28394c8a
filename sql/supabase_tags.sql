-- The tag table Inspire reads through Supabase's REST API (PostgREST), for people who run their
-- own Supabase project. The Worker works without it: the same 140,790 tags are embedded.
--
-- Load it with psql (the CSV is data/tags_final.csv.gz in this repository):
--   gunzip -k data/tags_final.csv.gz
--   psql "$DATABASE_URL" -f sql/supabase_tags.sql
--   psql "$DATABASE_URL" -c "\copy public.tags_final (name, main_category, sub_category, classification_source, classification_confidence, post_count) FROM 'data/tags_final.csv' WITH (FORMAT csv, HEADER true)"
-- Then set SUPABASE_URL (https://<project>.supabase.co) as a var and SUPABASE_KEY as a secret.

CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA extensions;

CREATE TABLE IF NOT EXISTS public.tags_final (
    -- COLLATE "C": byte order, so `order=post_count.desc,name.asc` ties break exactly as the
    -- embedded index does and both sources return identical pages.
    name                       text COLLATE "C" PRIMARY KEY,
    main_category              text,
    sub_category               text,
    classification_source      text,
    classification_confidence  real,
    post_count                 integer NOT NULL DEFAULT 0 CHECK (post_count >= 0)
);

-- Empty strings in the CSV mean "no category".
CREATE OR REPLACE FUNCTION public.tags_final_blank_to_null() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.main_category := NULLIF(NEW.main_category, '');
    NEW.sub_category := NULLIF(NEW.sub_category, '');
    NEW.classification_source := NULLIF(NEW.classification_source, '');
    RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS tags_final_blank_to_null ON public.tags_final;
CREATE TRIGGER tags_final_blank_to_null BEFORE INSERT OR UPDATE ON public.tags_final
    FOR EACH ROW EXECUTE FUNCTION public.tags_final_blank_to_null();

-- Popularity order, category filters, and `ilike '%kw%'` (trigram) searches.
CREATE INDEX IF NOT EXISTS tags_final_popular ON public.tags_final (post_count DESC, name);
CREATE INDEX IF NOT EXISTS tags_final_category ON public.tags_final (main_category, post_count DESC);
CREATE INDEX IF NOT EXISTS tags_final_name_trgm ON public.tags_final USING gin (name extensions.gin_trgm_ops);

-- Read-only for the API roles.
ALTER TABLE public.tags_final ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS tags_final_read ON public.tags_final;
CREATE POLICY tags_final_read ON public.tags_final FOR SELECT USING (true);
GRANT SELECT ON public.tags_final TO anon, authenticated, service_role;
