-- Periodic review (domain/documents.md): each document reviewed at its interval, signed, with one
-- outcome. A review is kept for ever; the document's next review date is the latest review's
-- `next_review_on`, or before any review the interval after its first revision took effect
-- (worked out in shared::document::next_review, the same on both databases).
create table document_reviews (
    document_review_id integer primary key autoincrement,
    document_id integer not null references documents (document_id),
    outcome text not null check (outcome in ('no_change', 'revise', 'obsolete')),
    comment text not null default '',
    reviewed_on text not null,
    -- None when the review made the document obsolete.
    next_review_on text,
    reviewer_id integer not null references users (user_id),
    -- The signature "reviewed" on the document at the version reviewed.
    signature_id integer not null references signatures (signature_id),
    -- The draft a "revise" opened.
    revision_id integer references document_revisions (revision_id),
    created_at text not null
) strict;
create index document_reviews_document on document_reviews (document_id, document_review_id);

create trigger document_reviews_no_delete before delete on document_reviews
    begin select raise(abort, 'periodic reviews are never deleted'); end;
create trigger document_reviews_no_update before update on document_reviews
    begin select raise(abort, 'periodic reviews are never changed'); end;
