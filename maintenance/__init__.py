"""Work orders and the people who do them: lifecycle, service levels, assignment, playbooks,
preventive plans, parts, notices and KPIs."""
