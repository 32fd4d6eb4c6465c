-- The audit chain's head in one row, kept by a trigger on every append. A writer locks it
-- (`select … for update`) and reads it in one statement: after waiting for another writer,
-- PostgreSQL returns the row as that writer left it. This replaces the advisory lock and the
-- separate read of the newest entry: one round trip fewer per audited write. The table is
-- locked while the row is filled, so no append slips between the read and the trigger.
lock table audit_entries in share row exclusive mode;

create table audit_head (
    id integer primary key check (id = 1),
    -- 0 and '' while the trail is empty.
    seq bigint not null,
    hash text not null
);

insert into audit_head (id, seq, hash)
select 1, coalesce(max(seq), 0), coalesce((select hash from audit_entries order by seq desc limit 1), '')
from audit_entries;

create function audit_head_follow() returns trigger language plpgsql as $$
begin
    update audit_head set seq = new.seq, hash = new.hash where id = 1 and seq < new.seq;
    return null;
end;
$$;
create trigger audit_entries_head after insert on audit_entries
    for each row execute function audit_head_follow();
