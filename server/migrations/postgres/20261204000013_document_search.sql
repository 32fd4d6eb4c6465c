-- Full-text search of documents (domain/documents.md: by number, title and the text of the
-- revision in force). One tsvector per document that is not obsolete, kept in step by triggers:
-- a document created or retitled, a revision taking effect or being superseded, a document made
-- obsolete (its row leaves the index). The 'simple' configuration (no stemming, no stop words)
-- and punctuation read as spaces make the same words as SQLite's FTS5 tokenizer, so that both
-- find the same; the words of a query are made in shared::document::search_terms and matched as
-- prefixes. Weights: number A, title B, body C (ts_rank ranks a number or title match first).
create table document_search (
    document_id bigint primary key references documents (document_id),
    tsv tsvector not null
);
create index document_search_tsv on document_search using gin (tsv);

-- Punctuation and whitespace runs become one space ('SOP-0003' is 'sop' and '0003', not the
-- parser's 'sop' and '-0003').
create function document_search_words(t text) returns text language sql immutable as
$$ select regexp_replace(coalesce(t, ''), '[[:punct:][:space:]]+', ' ', 'g') $$;

create function document_search_refresh(id bigint) returns void language plpgsql as $$
begin
    delete from document_search where document_id = id;
    insert into document_search (document_id, tsv)
    select d.document_id,
        setweight(to_tsvector('simple', document_search_words(d.number)), 'A')
        || setweight(to_tsvector('simple', document_search_words(d.title)), 'B')
        || setweight(to_tsvector('simple', document_search_words(r.body)), 'C')
    from documents d
    left join document_revisions r on r.document_id = d.document_id and r.status = 'effective'
    where d.document_id = id and d.retired_at is null;
end $$;

create function document_search_changed() returns trigger language plpgsql as $$
begin
    perform document_search_refresh(new.document_id);
    return null;
end $$;

create trigger documents_search after insert or update of number, title, retired_at on documents
    for each row execute function document_search_changed();
create trigger document_revisions_search after update of status on document_revisions
    for each row when (old.status = 'effective' or new.status = 'effective')
    execute function document_search_changed();

select document_search_refresh(document_id) from documents;
