-- The newest audit entry about one kind of record, found by one index seek: what the training
-- matrix's cache is keyed on (a sign-in or a measurement does not make it compute again).
create index audit_entries_type_seq on audit_entries (record_type, seq);
