-- Training notices in the inbox (issue 13): one when an assignment is made (any cause but a
-- revision's approval, whose own notice carries the training) and one when an open assignment
-- comes due soon; each once per person, kind and assignment, and never turned off. A training
-- notice names its assignment, and its document and revision when the requirement has one.
alter table notices alter column document_id drop not null, alter column revision_id drop not null,
    add column assignment_id bigint references training_assignments (assignment_id);
alter table notices drop constraint notices_kind_check;
alter table notices add constraint notices_kind_check
    check (kind in ('approved', 'effective', 'training_assigned', 'training_due_soon'));
-- A revision notice names its revision; a training notice its assignment.
alter table notices add constraint notices_about check ((kind in ('approved', 'effective')) = (assignment_id is null)
    and (kind not in ('approved', 'effective') or (document_id is not null and revision_id is not null)));
-- One notice per person, kind and revision, or per person, kind and assignment (a second sending,
-- on another instance, is a no-op).
alter table notices drop constraint notices_user_id_kind_revision_id_key;
create unique index notices_revision_once on notices (user_id, kind, revision_id) where assignment_id is null;
create unique index notices_training_once on notices (assignment_id, kind, user_id) where assignment_id is not null;
