// Replaced by the HeraldIngest implementation; delete this file when adding the first real one.
