"""The runtime: one reconcile pass (engine), its bookkeeping (report), and the loop that repeats it (daemon)."""
