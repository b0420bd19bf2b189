// Package vault encrypts Latchkey's secrets (PIN codes) at rest with XChaCha20-Poly1305
// (golang.org/x/crypto). Keys live in a key file created with mode 0600 in the data
// directory, or come from the LATCHKEY_VAULT_KEY environment variable.
package vault

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/chacha20poly1305"

	"github.com/latchkey/latchkey"
)

// EnvKey names the environment variable that may hold the key (base64 of 32 bytes)
// instead of the key file.
const EnvKey = "LATCHKEY_VAULT_KEY"

// format is the first byte of every ciphertext, so that the layout can change later.
const format = 1

// Vault seals and opens secrets. It satisfies latchkey.Vault.
type Vault struct {
	path    string // "" when the key came from the environment
	current uint32
	keys    map[uint32][]byte
	macKey  []byte // authenticates the audit log; never rotated
	// derivedMAC marks a MAC key derived from a key file that had none (made before it).
	derivedMAC bool
}

var _ latchkey.Vault = (*Vault)(nil)

// keyFile is the key file's content: every key still needed to open old ciphertexts,
// and which one seals new ones.
type keyFile struct {
	Current uint32            `json:"current"`
	Keys    map[uint32]string `json:"keys"`              // id: base64 key
	MACKey  string            `json:"mac_key,omitempty"` // base64; absent from files made before it
}

// macKeyInfo labels the derivation of the MAC key from an encryption key.
const macKeyInfo = "latchkey audit log MAC key"

// deriveMACKey derives the audit log's MAC key from an encryption key (HKDF-SHA256), for
// a key from the environment and for key files made before the MAC key was kept in them.
func deriveMACKey(key []byte) ([]byte, error) {
	return hkdf.Key(sha256.New, key, nil, macKeyInfo, 32)
}

// Open loads the vault key: from LATCHKEY_VAULT_KEY when set, else from the key file at
// path, which is created with a new random key (mode 0600) when it does not exist. A
// key file readable by others is refused.
func Open(path string) (*Vault, error) {
	if env := strings.TrimSpace(os.Getenv(EnvKey)); env != "" {
		if strings.HasPrefix(env, "{") {
			// The key file's own content, as LATCHKEY_VAULT_KEY="$(cat vault.key)" gives it.
			return parseKeyFile([]byte(env), EnvKey)
		}
		key, err := base64.StdEncoding.DecodeString(env)
		if err != nil || len(key) != chacha20poly1305.KeySize {
			return nil, latchkey.Errorf(latchkey.EINVALID, "%s must be %d random bytes in base64 (openssl rand -base64 32).", EnvKey, chacha20poly1305.KeySize)
		}
		mac, err := deriveMACKey(key)
		if err != nil {
			return nil, err
		}
		return &Vault{current: 1, keys: map[uint32][]byte{1: key}, macKey: mac}, nil
	}
	v := &Vault{path: path}
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		key, mac := make([]byte, chacha20poly1305.KeySize), make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		if _, err := rand.Read(mac); err != nil {
			return nil, err
		}
		v.current, v.keys, v.macKey = 1, map[uint32][]byte{1: key}, mac
		return v, v.save()
	case err != nil:
		return nil, fmt.Errorf("vault key %s: %w", path, err)
	case fi.Mode().Perm()&0o077 != 0:
		return nil, latchkey.Errorf(latchkey.EUNAVAILABLE, "The vault key file %s can be read by others (mode %o); run chmod 600 on it.", path, fi.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("vault key %s: %w", path, err)
	}
	v, err = parseKeyFile(b, "The vault key file "+path)
	if err != nil {
		return nil, err
	}
	v.path = path
	if v.derivedMAC {
		// A key file from before the audit log was authenticated: keep its MAC key in
		// the file from now on, so that rotating the encryption keys leaves it as it is.
		return v, v.save()
	}
	return v, nil
}

// parseKeyFile reads a key file's content; what names where it came from, for errors.
func parseKeyFile(b []byte, what string) (*Vault, error) {
	var kf keyFile
	if err := json.Unmarshal(b, &kf); err != nil || kf.Keys[kf.Current] == "" {
		return nil, latchkey.Errorf(latchkey.EUNAVAILABLE, "%s is damaged; restore it from your backup of the data directory.", what)
	}
	v := &Vault{current: kf.Current, keys: map[uint32][]byte{}}
	for id, s := range kf.Keys {
		key, err := base64.StdEncoding.DecodeString(s)
		if err != nil || len(key) != chacha20poly1305.KeySize {
			return nil, latchkey.Errorf(latchkey.EUNAVAILABLE, "%s has a damaged key %d.", what, id)
		}
		v.keys[id] = key
	}
	if kf.MACKey != "" {
		var err error
		if v.macKey, err = base64.StdEncoding.DecodeString(kf.MACKey); err != nil || len(v.macKey) != 32 {
			return nil, latchkey.Errorf(latchkey.EUNAVAILABLE, "%s has a damaged MAC key; restore it from your backup of the data directory.", what)
		}
		return v, nil
	}
	var err error
	v.macKey, err = deriveMACKey(v.keys[v.current])
	v.derivedMAC = true
	return v, err
}

// save writes the key file atomically with mode 0600.
func (v *Vault) save() error {
	kf := keyFile{Current: v.current, Keys: map[uint32]string{}, MACKey: base64.StdEncoding.EncodeToString(v.macKey)}
	for id, k := range v.keys {
		kf.Keys[id] = base64.StdEncoding.EncodeToString(k)
	}
	b, err := json.MarshalIndent(kf, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(v.path), ".vault-*")
	if err != nil {
		return fmt.Errorf("write vault key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), v.path)
}

// Seal encrypts plaintext under the current key, bound to additional data. The result
// is: format byte, key id (4 bytes), nonce (24 bytes), ciphertext and tag.
func (v *Vault) Seal(plaintext, additional []byte) ([]byte, error) {
	aead, err := chacha20poly1305.NewX(v.keys[v.current])
	if err != nil {
		return nil, err
	}
	out := make([]byte, 5, 5+aead.NonceSize()+len(plaintext)+aead.Overhead())
	out[0] = format
	binary.BigEndian.PutUint32(out[1:5], v.current)
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	out = append(out, nonce...)
	return aead.Seal(out, nonce, plaintext, additional), nil
}

// Open decrypts a sealed secret. A ciphertext changed by one bit, sealed with other
// additional data, or under a key the vault no longer has, does not open.
func (v *Vault) Open(ciphertext, additional []byte) ([]byte, error) {
	const header = 5 + chacha20poly1305.NonceSizeX
	if len(ciphertext) < header+chacha20poly1305.Overhead || ciphertext[0] != format {
		return nil, latchkey.Errorf(latchkey.EINTERNAL, "sealed secret is malformed")
	}
	key, ok := v.keys[binary.BigEndian.Uint32(ciphertext[1:5])]
	if !ok {
		return nil, latchkey.Errorf(latchkey.EUNAVAILABLE, "A secret is sealed with a vault key this data directory no longer has; restore the key file from a backup.")
	}
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, err
	}
	plain, err := aead.Open(nil, ciphertext[5:header], ciphertext[header:], additional)
	if err != nil {
		return nil, latchkey.Errorf(latchkey.EINTERNAL, "sealed secret failed authentication")
	}
	return plain, nil
}

// MAC returns the HMAC-SHA256 of message under the vault's MAC key, which stays the
// same when the encryption keys rotate (the audit log keeps its old entries).
func (v *Vault) MAC(message []byte) []byte {
	m := hmac.New(sha256.New, v.macKey)
	m.Write(message)
	return m.Sum(nil)
}

// Rotate adds a new current key and saves the key file; old keys stay so that existing
// secrets still open. Re-encrypt every secret, then call Retire to drop the old keys.
func (v *Vault) Rotate() error {
	if v.path == "" {
		return latchkey.Errorf(latchkey.EINVALID, "The vault key comes from %s; rotate it by re-encrypting with a new key there.", EnvKey)
	}
	key := make([]byte, chacha20poly1305.KeySize)
	if _, err := rand.Read(key); err != nil {
		return err
	}
	next := v.current + 1
	for v.keys[next] != nil {
		next++
	}
	v.keys[next], v.current = key, next
	return v.save()
}

// Retire drops every key but the current one. Call it only once nothing is sealed with
// the old keys any more.
func (v *Vault) Retire() error {
	for id := range v.keys {
		if id != v.current {
			delete(v.keys, id)
		}
	}
	return v.save()
}

// KeyIDs returns how many keys the vault holds and which one is current.
func (v *Vault) KeyIDs() (n int, current uint32) { return len(v.keys), v.current }
