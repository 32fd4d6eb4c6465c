-- Training and competency (domain/training.md): requirements, curricula by role and department,
-- assignments created in the same transaction as their cause, quiz attempts and the records
-- that prove a person was trained. Nothing is deleted.

-- The day a revision came into force (the auditor's "which revision was in force on D?").
alter table document_revisions add column in_force_from text;
update document_revisions set in_force_from = coalesce(effective_date, substr(updated_at, 1, 10))
    where status in ('effective', 'superseded');

create table training_requirements (
    requirement_id integer primary key autoincrement,
    title text not null,
    kind text not null check (kind in ('read_and_understand', 'quiz', 'classroom', 'on_the_job')),
    document_id integer references documents (document_id),
    -- The quiz with its answer key (JSON), never sent to a trainee.
    quiz text,
    questions integer not null default 0,
    pass_mark integer not null default 0,
    attempts_allowed integer not null default 0,
    recurrence_months integer check (recurrence_months between 1 and 120),
    completion_days integer not null check (completion_days between 1 and 365),
    version integer not null default 1 check (version >= 1),
    created_at text not null,
    updated_at text not null,
    retired_at text,
    retired_reason text
) strict;
create index training_requirements_document on training_requirements (document_id) where document_id is not null;

-- Everyone with a role, or everyone in a department, must meet a requirement.
create table curriculum_lines (
    line_id integer primary key autoincrement,
    requirement_id integer not null references training_requirements (requirement_id),
    role text,
    department_id integer references departments (department_id),
    created_at text not null,
    retired_at text,
    retired_reason text,
    check ((role is null) <> (department_id is null))
) strict;
create unique index curriculum_lines_once on curriculum_lines (requirement_id, coalesce(role, ''),
    coalesce(department_id, 0)) where retired_at is null;

create table training_assignments (
    assignment_id integer primary key autoincrement,
    user_id integer not null references users (user_id),
    requirement_id integer not null references training_requirements (requirement_id),
    revision_id integer references document_revisions (revision_id),
    cause text not null check (cause in ('revision_approved', 'person_changed', 'curriculum_changed', 'recurrence')),
    cause_detail text not null,
    assigned_on text not null,
    due_on text not null,
    -- Cancelled: no longer required (the person changed role or department, or left).
    state text not null check (state in ('open', 'completed', 'cancelled')),
    acknowledged_at text,
    signature_id integer references signatures (signature_id),
    attempts_used integer not null default 0,
    completed_at text,
    version integer not null default 1 check (version >= 1),
    created_at text not null,
    updated_at text not null
) strict;
-- Never two open assignments of one requirement to one person, whichever causes fire at once.
create unique index training_assignments_one_open on training_assignments (user_id, requirement_id)
    where state = 'open';
create index training_assignments_user on training_assignments (user_id, state);

create table quiz_attempts (
    attempt_id integer primary key autoincrement,
    assignment_id integer not null references training_assignments (assignment_id),
    attempt integer not null check (attempt >= 1),
    answers text not null,
    score integer not null,
    passed integer not null check (passed in (0, 1)),
    submitted_at text not null,
    unique (assignment_id, attempt)
) strict;

create table training_records (
    record_id integer primary key autoincrement,
    assignment_id integer not null unique references training_assignments (assignment_id),
    user_id integer not null references users (user_id),
    requirement_id integer not null references training_requirements (requirement_id),
    revision_id integer references document_revisions (revision_id),
    completed_at text not null,
    signature_id integer references signatures (signature_id),
    score integer,
    trainer_id integer references users (user_id),
    expires_on text
) strict;
create index training_records_person on training_records (user_id, requirement_id, completed_at);

create trigger training_requirements_no_delete before delete on training_requirements
    begin select raise(abort, 'training requirements are never deleted: retire one with a reason'); end;
create trigger curriculum_lines_no_delete before delete on curriculum_lines
    begin select raise(abort, 'curriculum lines are never deleted: retire one with a reason'); end;
create trigger training_assignments_no_delete before delete on training_assignments
    begin select raise(abort, 'training assignments are never deleted'); end;
create trigger quiz_attempts_no_delete before delete on quiz_attempts
    begin select raise(abort, 'quiz attempts are never deleted'); end;
create trigger training_records_no_delete before delete on training_records
    begin select raise(abort, 'training records are never deleted'); end;
