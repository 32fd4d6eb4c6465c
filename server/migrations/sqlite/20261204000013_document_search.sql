-- Full-text search of documents (domain/documents.md: by number, title and the text of the
-- revision in force). One FTS5 row per document that is not obsolete, its rowid the document's
-- id, kept in step by triggers: a document created or retitled, a revision taking effect or
-- being superseded, a document made obsolete (its row leaves the index). The tokenizer keeps
-- diacritics, as PostgreSQL's 'simple' configuration does, so that both find the same; the
-- words of a query are made in shared::document::search_terms.
create virtual table document_search using fts5(number, title, body, tokenize = 'unicode61 remove_diacritics 0');

insert into document_search (rowid, number, title, body)
select d.document_id, d.number, d.title,
    coalesce((select r.body from document_revisions r where r.document_id = d.document_id
        and r.status = 'effective'), '')
from documents d where d.retired_at is null;

create trigger documents_search_insert after insert on documents begin
    insert into document_search (rowid, number, title, body) values (new.document_id, new.number, new.title, '');
end;

create trigger documents_search_update after update of number, title, retired_at on documents begin
    delete from document_search where rowid = new.document_id;
    insert into document_search (rowid, number, title, body)
    select d.document_id, d.number, d.title,
        coalesce((select r.body from document_revisions r where r.document_id = d.document_id
            and r.status = 'effective'), '')
    from documents d where d.document_id = new.document_id and d.retired_at is null;
end;

create trigger document_revisions_search after update of status on document_revisions
    when old.status = 'effective' or new.status = 'effective' begin
    delete from document_search where rowid = new.document_id;
    insert into document_search (rowid, number, title, body)
    select d.document_id, d.number, d.title,
        coalesce((select r.body from document_revisions r where r.document_id = d.document_id
            and r.status = 'effective'), '')
    from documents d where d.document_id = new.document_id and d.retired_at is null;
end;
