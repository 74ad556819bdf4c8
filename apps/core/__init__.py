"""The ground floor: helpers every app may use and that know no domain (safe CSV, money, calendar, API kit).

Nothing here imports another app of this project.
"""
