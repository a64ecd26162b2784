package raftstore

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// The file snapshot store (hashicorp/raft's FileSnapshotStore) writes a
// snapshot into DataDir/snapshots/<name>.tmp and renames it into place
// when it is complete. A node killed in between leaves the .tmp directory
// behind, which the snapshot store never reads nor removes: every such
// kill would leak a snapshot's worth of disk.
const (
	snapshotsDir      = "snapshots"
	snapshotTmpSuffix = ".tmp"
)

// removeTempSnapshots deletes the unfinished snapshots under dataDir and
// returns their names. Call it only while holding the data dir (after
// the log store's lock is taken), before the snapshot store opens: then
// no snapshot can be in progress.
//
// Errors: the first directory that could not be read or removed, naming
// it; the names removed before it are returned too.
func removeTempSnapshots(dataDir string) ([]string, error) {
	dir := filepath.Join(dataDir, snapshotsDir)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("raftstore: read snapshot dir: %w", err)
	}
	var removed []string
	for _, e := range entries {
		if !e.IsDir() || !strings.HasSuffix(e.Name(), snapshotTmpSuffix) {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return removed, fmt.Errorf("raftstore: remove unfinished snapshot %s: %w", e.Name(), err)
		}
		removed = append(removed, e.Name())
	}
	return removed, nil
}
