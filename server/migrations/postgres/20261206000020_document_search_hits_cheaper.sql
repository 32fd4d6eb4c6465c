-- document_search_hits (20261206000018) measured on 10,000 documents, a word in 65% of them:
-- ts_filter built a filtered copy of every match's rank_tsv to tell number/title matches (31 ms
-- against 12 without it), and the planner, expecting a set-returning function's default 1,000
-- rows, joined the hits to every document by hash. Now the caller passes the words restricted to
-- weights A and B (`q_title`, e.g. 'sop:*AB & 0003:*AB'), matched against rank_tsv as it is, and
-- the function says it returns about 20 rows (the default page), so the join looks each hit up.
drop function document_search_hits(tsquery, tsquery, bigint);

create function document_search_hits(q tsquery, q_any tsquery, q_title tsquery, n bigint)
    returns table (document_id bigint, title_hit boolean, score real)
    language sql stable rows 20 set enable_seqscan = off as $$
    select s.document_id, s.rank_tsv @@ q_title, ts_rank(s.rank_tsv, q_any)
    from document_search s
    where s.tsv @@ q
    order by 2 desc, 3 desc, s.number
    limit n
$$;
