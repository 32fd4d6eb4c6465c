-- An audited write appends its entry, and commits, in one round trip (`select … from
-- caliper_audit_append(…); commit`). The function takes the chain's append lock (the advisory
-- lock every append takes, held until the transaction ends), reads the chain's head under it,
-- and chains the entry after it: its position is the head's plus one, its link the head's hash,
-- and its hash SHA-256(link ‖ "\n" ‖ {"seq":<position> ‖ p_rest), `p_rest` being the rest of
-- the entry's canonical JSON as the application wrote it (`AuditEntry::canonical_after_seq`),
-- so that the verifier, which recomputes every hash in Rust, finds the same. It returns the
-- position and the hash. The lock is held from this call to the commit that follows it in the
-- same message: no round trip to the application while other writers wait for it.
-- Each statement of a volatile PL/pgSQL function reads with a new snapshot, so the head read
-- after the lock is granted includes the entry of the transaction that held it before.
create function caliper_audit_append(
    p_occurred_at timestamptz, p_actor_id bigint, p_actor_name text, p_action text,
    p_record_type text, p_record_id bigint, p_record_version bigint, p_changes text, p_reason text,
    p_source text, p_rest text)
returns table (appended_seq bigint, appended_hash text)
language plpgsql volatile as $$
declare
    h_seq bigint;
    h_hash text;
begin
    perform pg_advisory_xact_lock(1128616521);
    select a.seq, a.hash into h_seq, h_hash from audit_entries a order by a.seq desc limit 1;
    appended_seq := coalesce(h_seq, 0) + 1;
    h_hash := coalesce(h_hash, repeat('0', 64));
    appended_hash := encode(sha256(convert_to(h_hash || E'\n' || '{"seq":' || appended_seq::text || p_rest, 'UTF8')),
        'hex');
    insert into audit_entries (seq, occurred_at, actor_id, actor_name, action, record_type, record_id,
        record_version, changes, reason, source, prev_hash, hash)
    values (appended_seq, p_occurred_at, p_actor_id, p_actor_name, p_action, p_record_type, p_record_id,
        p_record_version, p_changes, p_reason, p_source, h_hash, appended_hash);
    return next;
end $$;
