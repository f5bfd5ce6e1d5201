"""FHIR R5 views of the read models: pure mapping from rows and log entries to resources."""
