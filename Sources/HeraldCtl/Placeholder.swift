// Replaced by the HeraldCtl implementation; delete this file when adding the first real one.
