-- The register's text search reads one lowercased column (see the PostgreSQL migration). SQLite
-- can add a generated column only as VIRTUAL: worked out when read, as before, so the same
-- query serves both databases.
alter table risks add column search_text text
    generated always as (lower(title || ' ' || description || ' ' || category)) virtual;
