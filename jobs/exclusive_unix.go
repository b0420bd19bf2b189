//go:build unix

package jobs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/latchkey/latchkey"
)

// holdExclusive takes an advisory lock on path (created if needed) for as long as the
// process lives or until release; another process holding it is refused.
func holdExclusive(path string) (release func(), exclusive bool, err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, false, fmt.Errorf("jobs: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, false, latchkey.Errorf(latchkey.EUNAVAILABLE, "Another Latchkey server already runs on the data directory %s: stop it first, or give this one another --data.", filepath.Dir(path))
		}
		return nil, false, fmt.Errorf("jobs: locking %s: %w", path, err)
	}
	return func() { f.Close() }, true, nil
}
