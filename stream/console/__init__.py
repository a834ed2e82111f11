"""The ops console: a web page where analysts triage alerts (queue, alert page, workflow,
audit trail), with its own triage store (SQLAlchemy) and the actions published on
``<prefix>.alert-actions``."""
