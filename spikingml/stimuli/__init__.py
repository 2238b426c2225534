"""Inputs and tasks: conditioning schedules, patterns, environments."""
