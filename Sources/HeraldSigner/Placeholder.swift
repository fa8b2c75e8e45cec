// Replaced by the HeraldSigner implementation; delete this file when adding the first real one.
