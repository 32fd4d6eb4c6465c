-- The audit trail (21 CFR 11.10(e)): append-only and hash-chained. Each row's hash covers
-- the previous row's hash and this row's canonical form (shared::audit). `seq` is the
-- position in the chain, without gaps; the unique index makes a fork impossible. Writers
-- serialise the append with a transaction-scoped advisory lock.
create table audit_entries (
    audit_entry_id bigint generated always as identity primary key,
    seq bigint not null,
    occurred_at timestamptz not null,
    actor_id bigint,
    actor_name text not null,
    action text not null,
    record_type text not null,
    record_id bigint not null,
    record_version bigint not null,
    changes text not null,
    reason text,
    source text not null,
    prev_hash text not null,
    hash text not null
);
create unique index audit_entries_seq on audit_entries (seq);
create index audit_entries_record on audit_entries (record_type, record_id, seq);
create index audit_entries_actor on audit_entries (actor_name, seq);
create index audit_entries_time on audit_entries (occurred_at);

-- The database itself refuses to change or remove an entry.
create function audit_entries_append_only() returns trigger language plpgsql as $$
begin
    raise exception 'the audit trail is append-only: entries cannot be changed or deleted';
end;
$$;
create trigger audit_entries_no_update before update or delete on audit_entries
    for each row execute function audit_entries_append_only();
create trigger audit_entries_no_truncate before truncate on audit_entries
    for each statement execute function audit_entries_append_only();
