"""Inputs and outputs: sources (readers), sinks (writers), records, atomic files."""
