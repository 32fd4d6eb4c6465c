-- Classroom sessions with attendance lists (issue 13): a qualified trainer records a session of a
-- classroom requirement held on a day, with who attended; in the same transaction each attendee's
-- open assignment is completed with a training record (trainer, completed that day). Nothing is
-- deleted.

create table class_sessions (
    session_id integer primary key autoincrement,
    requirement_id integer not null references training_requirements (requirement_id),
    held_on text not null,
    trainer_id integer not null references users (user_id),
    notes text not null default '',
    version integer not null default 1 check (version >= 1),
    created_at text not null,
    updated_at text not null
) strict;
create index class_sessions_requirement on class_sessions (requirement_id, held_on);

-- Who attended, and the assignment the session completed for them (each assignment once).
create table class_session_attendees (
    session_id integer not null references class_sessions (session_id),
    user_id integer not null references users (user_id),
    assignment_id integer not null unique references training_assignments (assignment_id),
    primary key (session_id, user_id)
) strict;
create index class_session_attendees_user on class_session_attendees (user_id);

create trigger class_sessions_no_delete before delete on class_sessions
    begin select raise(abort, 'classroom sessions are never deleted'); end;
create trigger class_session_attendees_no_delete before delete on class_session_attendees
    begin select raise(abort, 'attendance lists are never deleted'); end;
