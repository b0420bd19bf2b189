package latchkey_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

func backupJSON(t testing.TB, mutate func(*latchkey.Backup)) []byte {
	b := &latchkey.Backup{Format: latchkey.BackupFormat, Version: latchkey.BackupVersion, Created: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	for _, e := range chain(3) {
		b.Audit = append(b.Audit, *e)
	}
	if mutate != nil {
		mutate(b)
	}
	data, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestParseBackup(t *testing.T) {
	if _, err := latchkey.ParseBackup(backupJSON(t, nil)); err != nil {
		t.Fatalf("a good backup: %v", err)
	}
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"ErrNotJSON", []byte("PK\x03\x04"), "not a Latchkey backup"},
		{"ErrFormat", backupJSON(t, func(b *latchkey.Backup) { b.Format = "other" }), "not a Latchkey backup"},
		{"ErrVersion", backupJSON(t, func(b *latchkey.Backup) { b.Version = 9 }), "version 9"},
		{"ErrTamperedAudit", backupJSON(t, func(b *latchkey.Backup) { b.Audit[1].Actor = "mallory" }), "may have been altered"},
		{"ErrUnknownField", []byte(`{"format":"latchkey-backup","version":1,"extra":1}`), "not a Latchkey backup"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := latchkey.ParseBackup(tt.data)
			if latchkey.ErrorCode(err) != latchkey.EINVALID || !strings.Contains(latchkey.ErrorMessage(err), tt.want) {
				t.Fatalf("got %v, want invalid mentioning %q", err, tt.want)
			}
		})
	}
}

func FuzzParseBackup(f *testing.F) {
	f.Add(backupJSON(f, nil))
	f.Add([]byte(`{"format":"latchkey-backup","version":1,"audit":[{"seq":2}]}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := latchkey.ParseBackup(data)
		if err != nil {
			if latchkey.ErrorCode(err) != latchkey.EINVALID {
				t.Fatalf("error code %q", latchkey.ErrorCode(err))
			}
			return
		}
		// Every version from the first is read (version 1 kept bittings in the clear).
		if b.Format != latchkey.BackupFormat || b.Version < 1 || b.Version > latchkey.BackupVersion {
			t.Fatalf("accepted %q version %d", b.Format, b.Version)
		}
	})
}
