-- An audited write appends its entry in one round trip: this function takes the chain's
-- append lock (the advisory lock every append takes, held until the transaction ends), reads
-- the chain's head under it, and stores the entry only when the entry follows that head. The
-- writer chains the entry after the head it expects (the one its instance left last, kept in
-- memory); when another instance appended since, nothing is stored and the head is returned,
-- and the writer chains the entry again after it and calls once more (the lock is then held).
-- Each statement of a volatile PL/pgSQL function reads with a new snapshot, so the head read
-- after the lock is granted includes the entry of the transaction that held it before.
create function caliper_audit_append(
    p_seq bigint, p_occurred_at timestamptz, p_actor_id bigint, p_actor_name text, p_action text,
    p_record_type text, p_record_id bigint, p_record_version bigint, p_changes text, p_reason text,
    p_source text, p_prev_hash text, p_hash text)
returns table (head_seq bigint, head_hash text)
language plpgsql volatile as $$
declare
    h_seq bigint;
    h_hash text;
begin
    perform pg_advisory_xact_lock(1128616521);
    select a.seq, a.hash into h_seq, h_hash from audit_entries a order by a.seq desc limit 1;
    if (h_seq is null and p_seq = 1 and p_prev_hash = repeat('0', 64))
        or (h_seq = p_seq - 1 and h_hash = p_prev_hash) then
        insert into audit_entries (seq, occurred_at, actor_id, actor_name, action, record_type, record_id,
            record_version, changes, reason, source, prev_hash, hash)
        values (p_seq, p_occurred_at, p_actor_id, p_actor_name, p_action, p_record_type, p_record_id,
            p_record_version, p_changes, p_reason, p_source, p_prev_hash, p_hash);
        return;
    end if;
    -- Not stored: the head it must follow instead (null, null while the trail is empty).
    head_seq := h_seq;
    head_hash := h_hash;
    return next;
end $$;
