package sqlite_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/sqlite"
	"github.com/latchkey/latchkey/storetest"
)

// wantOwnerOnly fails unless each file exists with mode 0600.
func wantOwnerOnly(t *testing.T, paths ...string) {
	t.Helper()
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatalf("%s: %v", filepath.Base(p), err)
		}
		if got := fi.Mode().Perm(); got != 0o600 {
			t.Errorf("%s has mode %#o, want 0600", filepath.Base(p), got)
		}
	}
}

// openAndWrite opens the database at path and writes one change, so that its -wal and
// -shm files exist.
func openAndWrite(t *testing.T, path string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(testCtx(), path)
	if err != nil {
		t.Fatal(err)
	}
	must(t, storetest.NewService(t, db).CreatePerson(testCtx(), &latchkey.Person{Name: "Ana", Role: latchkey.RoleOwner}))
	return db
}

// The database file and its -wal and -shm files are made readable by their owner alone,
// whatever the umask and the directory's mode.
func TestNewFilesOwnerOnly(t *testing.T) {
	defer syscall.Umask(syscall.Umask(0))
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "latchkey.db")
	db := openAndWrite(t, path)
	defer db.Close()
	wantOwnerOnly(t, path, path+"-wal", path+"-shm")
}

// Files an older Latchkey left with broader permissions are tightened to 0600 on open.
func TestOpenTightensFiles(t *testing.T) {
	defer syscall.Umask(syscall.Umask(0))
	path := filepath.Join(t.TempDir(), "latchkey.db")
	must(t, openAndWrite(t, path).Close())
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, companion := range []string{path + "-wal", path + "-shm"} {
		if err := os.WriteFile(companion, nil, 0o666); err != nil {
			t.Fatal(err)
		}
	}
	db, err := sqlite.Open(testCtx(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	wantOwnerOnly(t, path, path+"-wal", path+"-shm")
}
