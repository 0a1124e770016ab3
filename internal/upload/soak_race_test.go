//go:build race

package upload

// soakRaceFlag is how the replay command builds the test: as this run was.
const soakRaceFlag = " -race"
