-- Training and competency (domain/training.md): requirements, curricula by role and department,
-- assignments created in the same transaction as their cause, quiz attempts and the records
-- that prove a person was trained. Nothing is deleted.

-- The day a revision came into force (the auditor's "which revision was in force on D?").
alter table document_revisions add column in_force_from date;
update document_revisions set in_force_from = coalesce(effective_date, updated_at::date)
    where status in ('effective', 'superseded');

create table training_requirements (
    requirement_id bigint generated always as identity primary key,
    title text not null,
    kind text not null check (kind in ('read_and_understand', 'quiz', 'classroom', 'on_the_job')),
    document_id bigint references documents (document_id),
    -- The quiz with its answer key (JSON), never sent to a trainee.
    quiz text,
    questions bigint not null default 0,
    pass_mark bigint not null default 0,
    attempts_allowed bigint not null default 0,
    recurrence_months bigint check (recurrence_months between 1 and 120),
    completion_days bigint not null check (completion_days between 1 and 365),
    version bigint not null default 1 check (version >= 1),
    created_at timestamptz not null,
    updated_at timestamptz not null,
    retired_at timestamptz,
    retired_reason text
);
create index training_requirements_document on training_requirements (document_id) where document_id is not null;

-- Everyone with a role, or everyone in a department, must meet a requirement.
create table curriculum_lines (
    line_id bigint generated always as identity primary key,
    requirement_id bigint not null references training_requirements (requirement_id),
    role text,
    department_id bigint references departments (department_id),
    created_at timestamptz not null,
    retired_at timestamptz,
    retired_reason text,
    check ((role is null) <> (department_id is null))
);
create unique index curriculum_lines_once on curriculum_lines (requirement_id, coalesce(role, ''),
    coalesce(department_id, 0)) where retired_at is null;

create table training_assignments (
    assignment_id bigint generated always as identity primary key,
    user_id bigint not null references users (user_id),
    requirement_id bigint not null references training_requirements (requirement_id),
    revision_id bigint references document_revisions (revision_id),
    cause text not null check (cause in ('revision_approved', 'person_changed', 'curriculum_changed', 'recurrence')),
    cause_detail text not null,
    assigned_on date not null,
    due_on date not null,
    -- Cancelled: no longer required (the person changed role or department, or left).
    state text not null check (state in ('open', 'completed', 'cancelled')),
    acknowledged_at timestamptz,
    signature_id bigint references signatures (signature_id),
    attempts_used bigint not null default 0,
    completed_at timestamptz,
    version bigint not null default 1 check (version >= 1),
    created_at timestamptz not null,
    updated_at timestamptz not null
);
-- Never two open assignments of one requirement to one person, whichever causes fire at once.
create unique index training_assignments_one_open on training_assignments (user_id, requirement_id)
    where state = 'open';
create index training_assignments_user on training_assignments (user_id, state);

create table quiz_attempts (
    attempt_id bigint generated always as identity primary key,
    assignment_id bigint not null references training_assignments (assignment_id),
    attempt bigint not null check (attempt >= 1),
    answers text not null,
    score bigint not null,
    passed boolean not null,
    submitted_at timestamptz not null,
    unique (assignment_id, attempt)
);

create table training_records (
    record_id bigint generated always as identity primary key,
    assignment_id bigint not null unique references training_assignments (assignment_id),
    user_id bigint not null references users (user_id),
    requirement_id bigint not null references training_requirements (requirement_id),
    revision_id bigint references document_revisions (revision_id),
    completed_at timestamptz not null,
    signature_id bigint references signatures (signature_id),
    score bigint,
    trainer_id bigint references users (user_id),
    expires_on date
);
create index training_records_person on training_records (user_id, requirement_id, completed_at);

create trigger training_requirements_no_delete before delete on training_requirements for each row execute function refuse_delete();
create trigger curriculum_lines_no_delete before delete on curriculum_lines for each row execute function refuse_delete();
create trigger training_assignments_no_delete before delete on training_assignments for each row execute function refuse_delete();
create trigger quiz_attempts_no_delete before delete on quiz_attempts for each row execute function refuse_delete();
create trigger training_records_no_delete before delete on training_records for each row execute function refuse_delete();
