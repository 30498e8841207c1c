package catalog

import (
	"crypto/sha256"
	"os"
	"path/filepath"
)

// writeContentFile stores data at dir/rel (temporary file, rename) with the given mode. A file
// already there with the same SHA-256 is kept as it is; one with other content (a damaged copy) is
// replaced, and the replacement is reported so that it reaches the summary.
//
// Durability: where batchSync is set (Linux), the file is not fsynced here; the caller must call
// syncContent(dir) before committing a record that references it (ingest does, once per chunk:
// one syncfs instead of two fsyncs per image, which stalled the workers). A power loss before that
// can leave an incomplete file that no record references; the next ingest of the same bytes finds
// its hash wrong and replaces it, saying so. Elsewhere each file is fsynced before the rename.
func writeContentFile(dir, rel string, data []byte, mode os.FileMode) (replaced bool, err error) {
	path := filepath.Join(dir, filepath.FromSlash(rel))
	if old, err := os.ReadFile(path); err == nil {
		if sha256.Sum256(old) == sha256.Sum256(data) {
			return false, nil
		}
		replaced = true
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return false, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return false, err
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return false, err
	}
	if !batchSync {
		if err := tmp.Sync(); err != nil {
			tmp.Close()
			return false, err
		}
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return false, err
	}
	if err := tmp.Close(); err != nil {
		return false, err
	}
	if replaced {
		// A read-only damaged file: make room for the good copy.
		_ = os.Chmod(path, 0o644)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return false, err
	}
	return replaced, nil
}
