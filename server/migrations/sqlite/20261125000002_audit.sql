-- The audit trail (21 CFR 11.10(e)): append-only and hash-chained. Each row's hash covers
-- the previous row's hash and this row's canonical form (shared::audit). `seq` is the
-- position in the chain, without gaps; the unique index makes a fork impossible.
create table audit_entries (
    audit_entry_id integer primary key autoincrement,
    seq integer not null,
    occurred_at text not null,
    actor_id integer,
    actor_name text not null,
    action text not null,
    record_type text not null,
    record_id integer not null,
    record_version integer not null,
    changes text not null,
    reason text,
    source text not null,
    prev_hash text not null,
    hash text not null
) strict;
create unique index audit_entries_seq on audit_entries (seq);
create index audit_entries_record on audit_entries (record_type, record_id, seq);
create index audit_entries_actor on audit_entries (actor_name, seq);
create index audit_entries_time on audit_entries (occurred_at);

-- The database itself refuses to change or remove an entry.
create trigger audit_entries_no_update before update on audit_entries
begin select raise(abort, 'the audit trail is append-only: entries cannot be changed'); end;
create trigger audit_entries_no_delete before delete on audit_entries
begin select raise(abort, 'the audit trail is append-only: entries cannot be deleted'); end;
