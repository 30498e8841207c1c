package catalog

import (
	"crypto/sha256"
	"os"
	"path/filepath"
)

// writeContentFile stores data at dir/rel atomically (temporary file, fsync, rename) with the given
// mode. A file already there with the same SHA-256 is kept as it is; one with other content (a
// damaged copy) is replaced, and the replacement is reported so that it reaches the summary.
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
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return false, err
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

// readCatalogFile reads a file stored in the catalog.
func (c *Catalog) readCatalogFile(rel string) ([]byte, error) {
	return os.ReadFile(filepath.Join(c.dir, filepath.FromSlash(rel)))
}

// ThumbnailPath is the absolute path of an image's thumbnail, "" when it has none.
func (c *Catalog) ThumbnailPath(img *Image) string {
	if img.Thumb == "" {
		return ""
	}
	return filepath.Join(c.dir, filepath.FromSlash(img.Thumb))
}

// ObjectPath is the absolute path of an image's preserved original, "" when it was not copied.
func (c *Catalog) ObjectPath(img *Image) string {
	if img.Object == "" {
		return ""
	}
	return filepath.Join(c.dir, filepath.FromSlash(img.Object))
}
