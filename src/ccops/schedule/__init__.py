"""Schedules: unattended runs declared with the inventory, fired by systemd timers on the jump host.

``model`` reads ``<inventory>/schedules.yml``; ``timing`` turns a schedule into its next
firings and its ``OnCalendar=`` lines in the site's time zone; ``fire`` runs one firing
(or records why it refused); ``units`` writes the timer and service units.
"""
