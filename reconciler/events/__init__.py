"""Event-driven drift detection: AWS events on an SQS queue name the resources to reconcile at once."""
