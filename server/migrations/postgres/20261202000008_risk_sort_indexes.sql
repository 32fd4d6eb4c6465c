-- Keyset paging of the register: one index per sortable key, with the risk's id as the tie
-- break, over the unretired risks only (every register query reads only those). A page after a
-- cursor is then a range scan from the cursor, however deep the page. (The owner sort reads the
-- owner's name through a join and is not indexed.)
create index risks_sort_title on risks (lower(title), risk_id) where retired_at is null;
create index risks_sort_residual on risks (residual_score, risk_id) where retired_at is null;
create index risks_sort_inherent on risks (inherent_score, risk_id) where retired_at is null;
create index risks_sort_review on risks (review_date, risk_id) where retired_at is null;
create index risks_sort_status on risks (status, risk_id) where retired_at is null;
