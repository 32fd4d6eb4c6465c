-- Document search at scale (10,000 documents of 2,000 words: a common word is in most of them).
-- bm25 over the whole text read every match's positions, and the tie-break read every match's
-- stored text; the search now matches in one index and ranks in another, small one:
--
-- * document_search: every word of the number, the title and the text in force, only to say
--   which documents hold every word of a query (detail=none: no positions; contentless: the
--   text is kept once, in document_revisions; prefix indexes of 1 and 2 characters for short
--   prefixes). Never ranked.
-- * document_search_rank: the number, the title and the head of the text (its first 1,000
--   characters: title, purpose, scope), ranked by bm25 and asked whether the number or title
--   hold every word (those documents first).
--
-- Both keep one row per document that is not obsolete, its rowid the document's id, in step by
-- the same triggers as before (a document created or retitled, a revision taking effect or
-- being superseded, a document made obsolete). The tokenizer keeps diacritics, as PostgreSQL's
-- 'simple' configuration does.
drop trigger documents_search_insert;
drop trigger documents_search_update;
drop trigger document_revisions_search;
drop table document_search;

create virtual table document_search using fts5(words, content = '', contentless_delete = 1,
    detail = none, prefix = '1 2', tokenize = 'unicode61 remove_diacritics 0');
create virtual table document_search_rank using fts5(number, title, head, prefix = '1 2',
    tokenize = 'unicode61 remove_diacritics 0');

insert into document_search (rowid, words)
select d.document_id, d.number || ' ' || d.title || ' ' || coalesce(r.body, '')
from documents d
left join document_revisions r on r.document_id = d.document_id and r.status = 'effective'
where d.retired_at is null;
insert into document_search_rank (rowid, number, title, head)
select d.document_id, d.number, d.title, substr(coalesce(r.body, ''), 1, 1000)
from documents d
left join document_revisions r on r.document_id = d.document_id and r.status = 'effective'
where d.retired_at is null;

create trigger documents_search_insert after insert on documents begin
    insert into document_search (rowid, words) values (new.document_id, new.number || ' ' || new.title);
    insert into document_search_rank (rowid, number, title, head)
    values (new.document_id, new.number, new.title, '');
end;

create trigger documents_search_update after update of number, title, retired_at on documents begin
    delete from document_search where rowid = new.document_id;
    delete from document_search_rank where rowid = new.document_id;
    insert into document_search (rowid, words)
    select d.document_id, d.number || ' ' || d.title || ' ' || coalesce(r.body, '')
    from documents d
    left join document_revisions r on r.document_id = d.document_id and r.status = 'effective'
    where d.document_id = new.document_id and d.retired_at is null;
    insert into document_search_rank (rowid, number, title, head)
    select d.document_id, d.number, d.title, substr(coalesce(r.body, ''), 1, 1000)
    from documents d
    left join document_revisions r on r.document_id = d.document_id and r.status = 'effective'
    where d.document_id = new.document_id and d.retired_at is null;
end;

create trigger document_revisions_search after update of status on document_revisions
    when old.status = 'effective' or new.status = 'effective' begin
    delete from document_search where rowid = new.document_id;
    delete from document_search_rank where rowid = new.document_id;
    insert into document_search (rowid, words)
    select d.document_id, d.number || ' ' || d.title || ' ' || coalesce(r.body, '')
    from documents d
    left join document_revisions r on r.document_id = d.document_id and r.status = 'effective'
    where d.document_id = new.document_id and d.retired_at is null;
    insert into document_search_rank (rowid, number, title, head)
    select d.document_id, d.number, d.title, substr(coalesce(r.body, ''), 1, 1000)
    from documents d
    left join document_revisions r on r.document_id = d.document_id and r.status = 'effective'
    where d.document_id = new.document_id and d.retired_at is null;
end;
