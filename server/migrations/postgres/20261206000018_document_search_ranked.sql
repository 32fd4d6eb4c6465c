-- Document search at scale (10,000 documents of 2,000 words: a common word is in most of them).
-- ts_rank over the whole weighted vector detoasted every match's 15 kB vector (twice, with the
-- match in a sequential scan), so the search now matches with one vector and ranks with another,
-- small one:
--
-- * tsv: every word of the number, the title and the text in force, stripped (no positions or
--   weights), only to say through its GIN index (fastupdate off: no pending list to read at
--   search time) which documents hold every word of a query. Never ranked, never read: a plain
--   prefix query needs no recheck, so the bitmap scan does not detoast it.
-- * rank_tsv: number (A), title (B) and the head of the text (C, its first 1,000 characters:
--   title, purpose, scope), about 1.5 kB kept in the row; ts_rank ranks with it and ts_filter
--   tells whether the number or title hold every word (those documents first).
-- * number: the tie-break, without a join.
--
-- The triggers of 20261204000013 stay: they call document_search_refresh, replaced here.
drop index document_search_tsv;
alter table document_search add column number text not null default '',
    add column rank_tsv tsvector not null default '';

create or replace function document_search_refresh(id bigint) returns void language plpgsql as $$
begin
    delete from document_search where document_id = id;
    insert into document_search (document_id, number, tsv, rank_tsv)
    select d.document_id, d.number,
        strip(to_tsvector('simple', document_search_words(d.number || ' ' || d.title || ' ' || coalesce(r.body, '')))),
        setweight(to_tsvector('simple', document_search_words(d.number)), 'A')
        || setweight(to_tsvector('simple', document_search_words(d.title)), 'B')
        || setweight(to_tsvector('simple', document_search_words(left(r.body, 1000))), 'C')
    from documents d
    left join document_revisions r on r.document_id = d.document_id and r.status = 'effective'
    where d.document_id = id and d.retired_at is null;
end $$;

select document_search_refresh(document_id) from documents;
alter table document_search alter column number drop default, alter column rank_tsv drop default;
create index document_search_tsv on document_search using gin (tsv) with (fastupdate = off);

-- The best `n` documents holding every word of `q`, ranked by `q_any` (the same words, any of
-- them): those whose number or title hold every word first, then by ts_rank over rank_tsv, then
-- by number. The match goes through the GIN index, never a sequential scan: a common word is in
-- most documents, so the planner would rather scan the table, which detoasts every tsv to test
-- it (the costs do not count detoasting).
create function document_search_hits(q tsquery, q_any tsquery, n bigint)
    returns table (document_id bigint, title_hit boolean, score real)
    language sql stable set enable_seqscan = off as $$
    select s.document_id, ts_filter(s.rank_tsv, '{a,b}') @@ q, ts_rank(s.rank_tsv, q_any)
    from document_search s
    where s.tsv @@ q
    order by 2 desc, 3 desc, s.number
    limit n
$$;
