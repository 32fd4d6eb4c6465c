-- Exemptions from training requirements (issue 13): a quality manager exempts a person from a
-- requirement, for a reason and possibly until a day; revoked with a reason, never deleted. While
-- one is active nobody assigns the person that requirement. When it is revoked, or the minute
-- clock sees its last day pass (ended_at), the person is assigned again (cause exemption_ended).

create table training_exemptions (
    exemption_id bigint generated always as identity primary key,
    user_id bigint not null references users (user_id),
    requirement_id bigint not null references training_requirements (requirement_id),
    reason text not null,
    until date,
    granted_by bigint references users (user_id),
    granted_by_name text not null,
    revoked_at timestamptz,
    revoked_reason text,
    ended_at timestamptz,
    version bigint not null default 1 check (version >= 1),
    created_at timestamptz not null,
    updated_at timestamptz not null
);
-- At most one exemption in force per person and requirement (one whose day passed counts until
-- the clock ends it).
create unique index training_exemptions_one_active on training_exemptions (user_id, requirement_id)
    where revoked_at is null and ended_at is null;
create index training_exemptions_ending on training_exemptions (until)
    where revoked_at is null and ended_at is null and until is not null;
create trigger training_exemptions_no_delete before delete on training_exemptions
    for each row execute function refuse_delete();

-- A new cause of assignments.
alter table training_assignments drop constraint training_assignments_cause_check;
alter table training_assignments add constraint training_assignments_cause_check check (cause in
    ('revision_approved', 'person_changed', 'curriculum_changed', 'recurrence', 'exemption_ended'));
