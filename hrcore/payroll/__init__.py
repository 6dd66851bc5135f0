"""Payroll: statutory rules as dated data, the computation engine, runs and payslips.

- `rules`, `engine`: the statutory figures by country and date, and one month's pay.
- `months`: `YYYY-MM` months and their working days.
- `structures`: employees' salaries over time.
- `runs`: a month's run from draft through review to finalised, and corrections.
- `compute`: a run's payslips, prorated; `tasks` computes a large run in the background.
- `payslips`: who may read which payslip; `pdf` and `export` render them.
"""
