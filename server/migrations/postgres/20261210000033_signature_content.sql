-- Signatures bind the record's own content (issue 16, finding 11): how each hash was computed
-- (1: the record as the API showed it, names joined from other records included; 2: the record's
-- own fields, `shared::signature::content`) and, from scheme 2 on, the canonical content hashed,
-- so that any signature can be re-verified later, even after its record moved on.
alter table signatures add column hash_scheme bigint not null default 1;
alter table signatures add column signed_content text;
-- "Has this session signed yet?" (the first signature of a session needs the username too,
-- 11.200(a)(1)(i)), asked by every request's session lookup.
create index signatures_session on signatures (session_id);
