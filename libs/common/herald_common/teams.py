"""What a manager's team is, for every count that names it (docs/decisions/0053).

A manager's team is the department they manage: every employee in it, the manager
included. A token's `manages` names that department; the directory's managers
(`employees.manager_id`) manage their own department. Summaries, the manager's view of an
allocation and the console's "people in <department>" all count it this way.
"""

from __future__ import annotations

from psycopg import sql

# The team's size: one department parameter.
TEAM_SIZE = sql.SQL("SELECT count(*) FROM employees WHERE department = %s")
# Managers in the directory: employees someone reports to, with their department (the team).
DIRECTORY_MANAGERS = sql.SQL(
    "SELECT DISTINCT m.id, m.department FROM employees m"
    " WHERE EXISTS (SELECT 1 FROM employees r WHERE r.manager_id = m.id)"
)
