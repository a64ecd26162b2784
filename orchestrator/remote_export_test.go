package orchestrator

// SetWatchHistoryForTest makes a node keep only n events for watches, so
// that a test can watch from a revision compacted away.
func SetWatchHistoryForTest(cfg *Config, n int) { cfg.watchHistory = n }
