// Replaced by the first real test file; delete this one then.
