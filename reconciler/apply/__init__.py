"""Apply: one coroutine per change; the executor walks the plan in dependency order."""
