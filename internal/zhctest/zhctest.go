// Package zhctest runs zigbee-herdsman-converters (the converters Zigbee2MQTT uses) on
// test cases, in Node, so that the zigbee2mqtt driver's messages and the twin fleet's
// payloads are checked against the real thing. The Node harness is in
// zigbee2mqtt/testdata/zhc, its version pinned by its package-lock.json.
package zhctest

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// Dir is the Node harness's directory.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "zigbee2mqtt", "testdata", "zhc")
}

// Run sends cases (see convert.mjs) to the converters and returns one answer per case.
// It skips the test unless LATCHKEY_TEST_ZHC is set (after npm ci in Dir).
func Run(t testing.TB, cases []map[string]any) []json.RawMessage {
	t.Helper()
	if os.Getenv("LATCHKEY_TEST_ZHC") == "" {
		t.Skip("zigbee-herdsman-converters not installed: run 'npm ci --ignore-scripts' in zigbee2mqtt/testdata/zhc and set LATCHKEY_TEST_ZHC=1")
	}
	in, err := json.Marshal(cases)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", "convert.mjs")
	cmd.Dir = Dir()
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node convert.mjs: %v\n%s", err, stderr.String())
	}
	var answers []json.RawMessage
	if err := json.Unmarshal(out, &answers); err != nil || len(answers) != len(cases) {
		t.Fatalf("the converters answered %d of %d cases (%v): %.300s", len(answers), len(cases), err, out)
	}
	return answers
}
