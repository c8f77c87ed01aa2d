"""Event-driven drift detection (issue 8): AWS events on an SQS queue name the resources to reconcile at once."""
