package vault_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/vault"
)

func TestSealOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vault.key")
	v, err := vault.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v (%v), want 0600", fi.Mode().Perm(), err)
	}
	sealed, err := v.Seal([]byte("482913"), []byte("code:7"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("482913")) {
		t.Fatal("the ciphertext contains the plaintext")
	}
	plain, err := v.Open(sealed, []byte("code:7"))
	if err != nil || string(plain) != "482913" {
		t.Fatalf("Open = %q, %v", plain, err)
	}
	if _, err := v.Open(sealed, []byte("code:8")); err == nil {
		t.Error("opened with other additional data: a sealed PIN moved to another record must not open")
	}
	flipped := bytes.Clone(sealed)
	flipped[len(flipped)-1] ^= 1
	if _, err := v.Open(flipped, []byte("code:7")); err == nil {
		t.Error("opened a ciphertext with a flipped bit")
	}
	// Reopening reads the same key.
	v2, err := vault.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if plain, err := v2.Open(sealed, []byte("code:7")); err != nil || string(plain) != "482913" {
		t.Fatalf("after reopening: %q, %v", plain, err)
	}
}

func TestRotate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vault.key")
	v, _ := vault.Open(path)
	old, _ := v.Seal([]byte("1111"), nil)
	if err := v.Rotate(); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Open(old, nil); err != nil {
		t.Fatalf("an old secret no longer opens before retiring: %v", err)
	}
	fresh, _ := v.Seal([]byte("2222"), nil)
	if err := v.Retire(); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Open(old, nil); latchkey.ErrorCode(err) != latchkey.EUNAVAILABLE {
		t.Fatalf("a secret under a retired key: %v, want unavailable", err)
	}
	v2, _ := vault.Open(path)
	if plain, err := v2.Open(fresh, nil); err != nil || string(plain) != "2222" {
		t.Fatalf("after reopening: %q, %v", plain, err)
	}
	if n, cur := v2.KeyIDs(); n != 1 || cur != 2 {
		t.Fatalf("keys %d, current %d", n, cur)
	}
}

func TestRefusesOpenKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vault.key")
	if _, err := vault.Open(path); err != nil {
		t.Fatal(err)
	}
	os.Chmod(path, 0o644)
	if _, err := vault.Open(path); latchkey.ErrorCode(err) != latchkey.EUNAVAILABLE {
		t.Fatalf("a world-readable key file: %v", err)
	}
}

func TestEnvKey(t *testing.T) {
	t.Setenv(vault.EnvKey, "not base64!")
	if _, err := vault.Open(filepath.Join(t.TempDir(), "k")); latchkey.ErrorCode(err) != latchkey.EINVALID {
		t.Fatalf("bad env key: %v", err)
	}
	t.Setenv(vault.EnvKey, "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
	dir := t.TempDir()
	v, err := vault.Open(filepath.Join(dir, "k"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "k")); !os.IsNotExist(err) {
		t.Error("a key file was written although the key came from the environment")
	}
	if err := v.Rotate(); latchkey.ErrorCode(err) != latchkey.EINVALID {
		t.Errorf("rotate with an env key: %v", err)
	}
}

func FuzzOpen(f *testing.F) {
	dir := f.TempDir()
	v, err := vault.Open(filepath.Join(dir, "vault.key"))
	if err != nil {
		f.Fatal(err)
	}
	good, _ := v.Seal([]byte("1234"), nil)
	f.Add(good)
	f.Add([]byte{1, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		plain, err := v.Open(data, nil)
		if err == nil && !bytes.Equal(data, good) && string(plain) == "1234" {
			t.Fatal("a different ciphertext opened to the same secret")
		}
	})
}

// The audit log's MAC key is the vault's own: kept in the key file, not derivable from
// anything in the store, and the same across rotations (old audit entries still verify)
// and reopenings; a key file from before it existed gets one, kept from then on.
func TestMACKey(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "vault.key")
	v, err := vault.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("latchkey audit entry\x00abc")
	mac := v.MAC(msg)
	if len(mac) != 32 || bytes.Equal(mac, v.MAC([]byte("other"))) {
		t.Fatalf("MAC %x", mac)
	}
	if err := v.Rotate(); err != nil {
		t.Fatal(err)
	}
	if err := v.Retire(); err != nil {
		t.Fatal(err)
	}
	again, err := vault.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.MAC(msg), mac) {
		t.Fatal("the MAC changed with a key rotation: old audit entries would no longer verify")
	}
	other, err := vault.Open(filepath.Join(t.TempDir(), "vault.key"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(other.MAC(msg), mac) {
		t.Fatal("two vaults share a MAC key")
	}

	// A key file written before the MAC key existed.
	legacy := filepath.Join(t.TempDir(), "vault.key")
	if err := os.WriteFile(legacy, []byte(`{"current":1,"keys":{"1":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	lv, err := vault.Open(legacy)
	if err != nil {
		t.Fatal(err)
	}
	first := lv.MAC(msg)
	if b, _ := os.ReadFile(legacy); !bytes.Contains(b, []byte("mac_key")) {
		t.Fatalf("the legacy key file did not keep its new MAC key: %s", b)
	}
	if err := lv.Rotate(); err != nil {
		t.Fatal(err)
	}
	if err := lv.Retire(); err != nil {
		t.Fatal(err)
	}
	if lv2, err := vault.Open(legacy); err != nil || !bytes.Equal(lv2.MAC(msg), first) {
		t.Fatalf("after rotating a legacy vault the MAC changed (%v)", err)
	}
}

// LATCHKEY_VAULT_KEY takes the key file's own content too, as "$(cat vault.key)" gives
// it: codes sealed with the file open with the variable, and the audit MAC is the same.
func TestEnvKeyFromKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vault.key")
	v, err := vault.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := v.Seal([]byte("482913"), []byte("code:1"))
	if err != nil {
		t.Fatal(err)
	}
	content, _ := os.ReadFile(path)
	t.Setenv(vault.EnvKey, string(content)+"\n")
	ev, err := vault.Open(filepath.Join(t.TempDir(), "unused.key"))
	if err != nil {
		t.Fatal(err)
	}
	if plain, err := ev.Open(sealed, []byte("code:1")); err != nil || string(plain) != "482913" {
		t.Fatalf("a code sealed with the file does not open with its content in %s: %v", vault.EnvKey, err)
	}
	if !bytes.Equal(ev.MAC([]byte("m")), v.MAC([]byte("m"))) {
		t.Fatal("the MAC key differs")
	}
	if err := ev.Rotate(); latchkey.ErrorCode(err) != latchkey.EINVALID {
		t.Fatalf("rotating a key from the environment: %v", err)
	}
}
