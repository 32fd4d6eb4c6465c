-- The heatmap counts the open, unretired risks of one matrix revision per pair of cells. The
-- first index left `retired_at` out, so every risk cost a table lookup (about 20 ms for 10,000
-- risks on SQLite); this one holds only unretired risks and every column the count reads, in
-- the order it groups by.
create index risks_heatmap_open on risks (matrix_revision_id, inherent_likelihood, inherent_severity,
    residual_likelihood, residual_severity, status) where retired_at is null;
drop index risks_heatmap;
