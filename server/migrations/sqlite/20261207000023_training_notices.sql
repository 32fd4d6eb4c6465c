-- Training notices in the inbox (issue 13): one when an assignment is made (any cause but a
-- revision's approval, whose own notice carries the training) and one when an open assignment
-- comes due soon; each once per person, kind and assignment, and never turned off. A training
-- notice names its assignment, and its document and revision when the requirement has one.
--
-- SQLite changes columns and checks by rebuilding the table: its rows are copied aside, the
-- table made again, its rows put back (same ids), with its indexes and trigger. Nothing refers to
-- notices.
create temp table notices_copy as select notice_id, user_id, kind, document_id, revision_id, carries_training,
    created_at, read_at from notices;
drop table notices;
create table notices (
    notice_id integer primary key autoincrement,
    user_id integer not null references users (user_id),
    kind text not null check (kind in ('approved', 'effective', 'training_assigned', 'training_due_soon')),
    document_id integer references documents (document_id),
    revision_id integer references document_revisions (revision_id),
    assignment_id integer references training_assignments (assignment_id),
    carries_training integer not null default 0 check (carries_training in (0, 1)),
    created_at text not null,
    read_at text,
    -- A revision notice names its revision; a training notice its assignment.
    check ((kind in ('approved', 'effective')) = (assignment_id is null)),
    check (kind not in ('approved', 'effective') or (document_id is not null and revision_id is not null))
) strict;
insert into notices (notice_id, user_id, kind, document_id, revision_id, carries_training, created_at, read_at)
    select notice_id, user_id, kind, document_id, revision_id, carries_training, created_at, read_at
    from notices_copy order by notice_id;
drop table notices_copy;
-- One notice per person, kind and revision, or per person, kind and assignment (a second sending,
-- on another instance, is a no-op).
create unique index notices_revision_once on notices (user_id, kind, revision_id) where assignment_id is null;
create unique index notices_training_once on notices (assignment_id, kind, user_id) where assignment_id is not null;
create index notices_unread on notices (user_id, notice_id) where read_at is null;
create index notices_user on notices (user_id, notice_id);
create trigger notices_no_delete before delete on notices
    begin select raise(abort, 'notices are never deleted: mark one read'); end;
