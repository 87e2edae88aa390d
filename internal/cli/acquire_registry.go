package cli

// apiSources lists the per-account API sources acquire collects, in the
// order they run.
func apiSources() []apiSource {
	return []apiSource{}
}
