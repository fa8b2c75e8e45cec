// Replaced by the HeraldWorker implementation; delete this file when adding the first real one.
