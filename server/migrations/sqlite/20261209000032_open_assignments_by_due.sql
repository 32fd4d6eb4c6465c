-- The open assignments past their due date (overdue work on the dashboard, the notices' clock)
-- without reading every assignment ever made.
create index training_assignments_open_due on training_assignments (due_on) where state = 'open';
