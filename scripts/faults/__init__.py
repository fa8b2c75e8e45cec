"""Helpers of scripts/fault-suite.py: a private broker (or 3-node cluster), Herald's services, a
verifying receiver, a load generator, the delivery ledger, the scenarios and the report."""
