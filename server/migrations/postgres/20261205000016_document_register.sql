-- The document register (GET /api/v1/documents with filters, sort and pages; documents.csv).
-- Two values the register filters and sorts by are kept on the document, so that a filtered
-- page reads an index instead of working them out for every document:
-- * next_review_on: when its next periodic review is due (the latest review's next date, else the
--   review interval after its first revision took effect). Written by the server, in the
--   transaction that changes what it depends on (shared::document::next_review does the month
--   arithmetic); filled here for the documents there are.
-- * changed_at: when it or any of its revisions last changed, kept by the triggers below.
alter table documents add column next_review_on date;
alter table documents add column changed_at timestamptz;

update documents set changed_at = greatest(updated_at, (select max(r.updated_at) from document_revisions r
    where r.document_id = documents.document_id));

-- Adding months to a date keeps to the month's last day, as next_review does.
update documents set next_review_on = coalesce(
    (select v.next_review_on from document_reviews v where v.document_id = documents.document_id
        order by v.document_review_id desc limit 1),
    (select (min(r.in_force_from) + make_interval(months => documents.review_interval_months::int))::date
        from document_revisions r where r.document_id = documents.document_id));

create function documents_changed_by_revision() returns trigger language plpgsql as $$
begin
    update documents set changed_at = new.updated_at
    where document_id = new.document_id and (changed_at is null or changed_at < new.updated_at);
    return null;
end $$;
create trigger document_revisions_changed after insert or update of updated_at on document_revisions
    for each row execute function documents_changed_by_revision();

create function documents_changed() returns trigger language plpgsql as $$
begin
    if new.changed_at is null or new.changed_at < new.updated_at then
        new.changed_at := new.updated_at;
    end if;
    return new;
end $$;
create trigger documents_changed before insert or update of updated_at on documents
    for each row execute function documents_changed();

-- A filtered first page in the register's order (number), and its count, from an index.
create index documents_type_number on documents (doc_type, number);
drop index documents_owner;
create index documents_owner_number on documents (owner_id, number);
create index documents_process_number on documents (process_id, number);
create index documents_next_review on documents (next_review_on) where retired_at is null;
create index documents_changed on documents (changed_at);
create index documents_title on documents (lower(title));
-- "Which documents have a revision in review / a draft?" from the revisions' side.
create index document_revisions_status on document_revisions (status, document_id);
