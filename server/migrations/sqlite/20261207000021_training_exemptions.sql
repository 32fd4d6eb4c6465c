-- Exemptions from training requirements (issue 13): a quality manager exempts a person from a
-- requirement, for a reason and possibly until a day; revoked with a reason, never deleted. While
-- one is active nobody assigns the person that requirement. When it is revoked, or the minute
-- clock sees its last day pass (ended_at), the person is assigned again (cause exemption_ended).

create table training_exemptions (
    exemption_id integer primary key autoincrement,
    user_id integer not null references users (user_id),
    requirement_id integer not null references training_requirements (requirement_id),
    reason text not null,
    until text,
    granted_by integer references users (user_id),
    granted_by_name text not null,
    revoked_at text,
    revoked_reason text,
    ended_at text,
    version integer not null default 1 check (version >= 1),
    created_at text not null,
    updated_at text not null
) strict;
-- At most one exemption in force per person and requirement (one whose day passed counts until
-- the clock ends it).
create unique index training_exemptions_one_active on training_exemptions (user_id, requirement_id)
    where revoked_at is null and ended_at is null;
create index training_exemptions_ending on training_exemptions (until)
    where revoked_at is null and ended_at is null and until is not null;
create trigger training_exemptions_no_delete before delete on training_exemptions
    begin select raise(abort, 'training exemptions are never deleted: revoke one with a reason'); end;

-- A new cause of assignments. SQLite changes a check constraint by rebuilding the table: its rows
-- are copied aside, the table is made again with the new check, its rows put back (same ids, so
-- the records, quiz attempts and CAPA actions that refer to them still do; the foreign keys are
-- checked at commit), with its indexes and trigger.
pragma defer_foreign_keys = on;
create temp table training_assignments_copy as select assignment_id, user_id, requirement_id, revision_id, cause,
    cause_detail, assigned_on, due_on, state, acknowledged_at, signature_id, attempts_used, completed_at, version,
    created_at, updated_at from training_assignments;
drop table training_assignments;
create table training_assignments (
    assignment_id integer primary key autoincrement,
    user_id integer not null references users (user_id),
    requirement_id integer not null references training_requirements (requirement_id),
    revision_id integer references document_revisions (revision_id),
    cause text not null check (cause in ('revision_approved', 'person_changed', 'curriculum_changed', 'recurrence',
        'exemption_ended')),
    cause_detail text not null,
    assigned_on text not null,
    due_on text not null,
    -- Cancelled: no longer required (the person changed role or department, left, or was exempted).
    state text not null check (state in ('open', 'completed', 'cancelled')),
    acknowledged_at text,
    signature_id integer references signatures (signature_id),
    attempts_used integer not null default 0,
    completed_at text,
    version integer not null default 1 check (version >= 1),
    created_at text not null,
    updated_at text not null
) strict;
insert into training_assignments (assignment_id, user_id, requirement_id, revision_id, cause, cause_detail,
    assigned_on, due_on, state, acknowledged_at, signature_id, attempts_used, completed_at, version, created_at,
    updated_at)
    select assignment_id, user_id, requirement_id, revision_id, cause, cause_detail, assigned_on, due_on, state,
    acknowledged_at, signature_id, attempts_used, completed_at, version, created_at, updated_at
    from training_assignments_copy order by assignment_id;
drop table training_assignments_copy;
create unique index training_assignments_one_open on training_assignments (user_id, requirement_id)
    where state = 'open';
create index training_assignments_user on training_assignments (user_id, state);
create trigger training_assignments_no_delete before delete on training_assignments
    begin select raise(abort, 'training assignments are never deleted'); end;
