-- The document register (GET /api/v1/documents with filters, sort and pages; documents.csv).
-- Two values the register filters and sorts by are kept on the document, so that a filtered
-- page reads an index instead of working them out for every document:
-- * next_review_on: when its next periodic review is due (the latest review's next date, else the
--   review interval after its first revision took effect). Written by the server, in the
--   transaction that changes what it depends on (shared::document::next_review does the month
--   arithmetic); filled here for the documents there are.
-- * changed_at: when it or any of its revisions last changed, kept by the triggers below.
alter table documents add column next_review_on text;
alter table documents add column changed_at text;

update documents set changed_at = max(updated_at, coalesce((select max(r.updated_at) from document_revisions r
    where r.document_id = documents.document_id), updated_at));

-- date(d, '+N months') runs over into the next month (2024-02-29 + 12 months = 2025-03-01);
-- next_review keeps to the month's last day, which the second date gives: the smaller of the two.
update documents set next_review_on = coalesce(
    (select v.next_review_on from document_reviews v where v.document_id = documents.document_id
        order by v.document_review_id desc limit 1),
    (select min(date(f.first, '+' || documents.review_interval_months || ' months'),
            date(f.first, 'start of month', '+' || (documents.review_interval_months + 1) || ' months', '-1 day'))
        from (select min(r.in_force_from) as first from document_revisions r
            where r.document_id = documents.document_id) f where f.first is not null));

create trigger document_revisions_changed_insert after insert on document_revisions begin
    update documents set changed_at = new.updated_at
    where document_id = new.document_id and (changed_at is null or changed_at < new.updated_at);
end;
create trigger document_revisions_changed_update after update of updated_at on document_revisions begin
    update documents set changed_at = new.updated_at
    where document_id = new.document_id and (changed_at is null or changed_at < new.updated_at);
end;
create trigger documents_changed_insert after insert on documents begin
    update documents set changed_at = new.updated_at where document_id = new.document_id and changed_at is null;
end;
create trigger documents_changed after update of updated_at on documents begin
    update documents set changed_at = new.updated_at
    where document_id = new.document_id and (changed_at is null or changed_at < new.updated_at);
end;

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
