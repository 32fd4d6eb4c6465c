-- Classroom sessions with attendance lists (issue 13): a qualified trainer records a session of a
-- classroom requirement held on a day, with who attended; in the same transaction each attendee's
-- open assignment is completed with a training record (trainer, completed that day). Nothing is
-- deleted.

create table class_sessions (
    session_id bigint generated always as identity primary key,
    requirement_id bigint not null references training_requirements (requirement_id),
    held_on date not null,
    trainer_id bigint not null references users (user_id),
    notes text not null default '',
    version bigint not null default 1 check (version >= 1),
    created_at timestamptz not null,
    updated_at timestamptz not null
);
create index class_sessions_requirement on class_sessions (requirement_id, held_on);

-- Who attended, and the assignment the session completed for them (each assignment once).
create table class_session_attendees (
    session_id bigint not null references class_sessions (session_id),
    user_id bigint not null references users (user_id),
    assignment_id bigint not null unique references training_assignments (assignment_id),
    primary key (session_id, user_id)
);
create index class_session_attendees_user on class_session_attendees (user_id);

create trigger class_sessions_no_delete before delete on class_sessions
    for each row execute function refuse_delete();
create trigger class_session_attendees_no_delete before delete on class_session_attendees
    for each row execute function refuse_delete();
