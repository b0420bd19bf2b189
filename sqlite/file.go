package sqlite

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// fileMode is the mode of the database file and of its -wal and -shm files: they hold
// every record, so only their owner may read them.
const fileMode fs.FileMode = 0o600

// ownerOnly creates the database file if it is missing and gives it, and its -wal and
// -shm files where they exist, mode 0600: a new file whatever the umask took from it, an
// old one whatever it had. SQLite gives the -wal and -shm files it creates the database
// file's mode, regardless of the umask, so they follow.
func ownerOnly(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, fileMode)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	if err := f.Chmod(fileMode); err != nil {
		return fmt.Errorf("make %s private: %w", path, err)
	}
	for _, companion := range []string{path + "-wal", path + "-shm"} {
		if err := os.Chmod(companion, fileMode); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("make %s private: %w", companion, err)
		}
	}
	return nil
}
