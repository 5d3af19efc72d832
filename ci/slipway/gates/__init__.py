"""The gates a model passes on its way to production: evaluate, deploy, rollback, history."""
