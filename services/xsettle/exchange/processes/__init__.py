"""This machine and its brokers: Tansu, the broker choice, child processes, client options."""
