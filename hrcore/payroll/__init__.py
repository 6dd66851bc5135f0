"""Payroll: statutory rules as dated data, the computation engine, runs and payslips."""
