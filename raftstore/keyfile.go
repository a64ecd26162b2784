package raftstore

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"go.uber.org/zap"
)

// A key file (Config.KeyFile) holds a node's encryption keys as JSON:
//
//	{
//	  "version": 1,
//	  "primary": "k-1767225600",
//	  "keys": [
//	    {"id": "k1", "secret": "<32 bytes, standard base64>"},
//	    {"id": "k-1767225600", "secret": "..."}
//	  ],
//	  "retired": ["k0"]
//	}
//
// primary names the key new values are sealed with (default: the first
// key); retired lists keys the cluster retired, which a configuration that
// still names them does not bring back. Its mode must not give the group or
// others any access (0600 or stricter).

const keyFileVersion = 1

type keyFileJSON struct {
	Version int          `json:"version"`
	Primary string       `json:"primary,omitempty"`
	Keys    []keyFileKey `json:"keys"`
	Retired []string     `json:"retired,omitempty"`
}

type keyFileKey struct {
	ID     string `json:"id"`
	Secret string `json:"secret"`
}

// keyFile is a parsed key file.
type keyFile struct {
	primary string
	keys    []EncryptionKey
	retired []string
}

// maxKeyFileSize bounds what readKeyFile reads.
const maxKeyFileSize = 1 << 20

// readKeyFile loads path; (nil, nil) if it does not exist.
func readKeyFile(path string) (*keyFile, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("raftstore: KeyFile: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("raftstore: KeyFile: %w", err)
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("raftstore: KeyFile %s: not a regular file (%v)", path, info.Mode())
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("raftstore: KeyFile %s: mode %#o gives the group or others access; it must be 0600 or stricter", path, perm)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("raftstore: KeyFile %s: %w", path, err)
	}
	if len(data) > maxKeyFileSize {
		return nil, fmt.Errorf("raftstore: KeyFile %s: larger than %d bytes", path, maxKeyFileSize)
	}
	kf, err := parseKeyFile(data)
	if err != nil {
		return nil, fmt.Errorf("raftstore: KeyFile %s: %w", path, err)
	}
	return kf, nil
}

func parseKeyFile(data []byte) (*keyFile, error) {
	var raw keyFileJSON
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("not a key file: %w", err)
	}
	if dec.More() {
		return nil, errors.New("not a key file: data after the JSON object")
	}
	if raw.Version != keyFileVersion {
		return nil, fmt.Errorf("version: %d, want %d", raw.Version, keyFileVersion)
	}
	kf := &keyFile{primary: raw.Primary, retired: raw.Retired}
	var errs []error
	seen := map[string]bool{}
	for i, k := range raw.Keys {
		secret, err := base64.StdEncoding.DecodeString(k.Secret)
		switch {
		case k.ID == "" || len(k.ID) > maxKeyIDLen:
			errs = append(errs, fmt.Errorf("keys[%d].id: must be 1 to %d bytes", i, maxKeyIDLen))
		case seen[k.ID]:
			errs = append(errs, fmt.Errorf("keys[%d].id: %q is repeated", i, k.ID))
		case err != nil:
			errs = append(errs, fmt.Errorf("keys[%d].secret: not standard base64: %v", i, err))
		case len(secret) != keySecretSize:
			errs = append(errs, fmt.Errorf("keys[%d].secret: %d bytes, AES-256 needs %d", i, len(secret), keySecretSize))
		}
		seen[k.ID] = true
		kf.keys = append(kf.keys, EncryptionKey{ID: k.ID, Secret: secret})
	}
	if raw.Primary != "" && !seen[raw.Primary] {
		errs = append(errs, fmt.Errorf("primary: %q is not among the keys", raw.Primary))
	}
	for i, id := range raw.Retired {
		if seen[id] {
			errs = append(errs, fmt.Errorf("retired[%d]: %q is also among the keys", i, id))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if kf.primary == "" && len(kf.keys) > 0 {
		kf.primary = kf.keys[0].ID
	}
	return kf, nil
}

// keyFileData renders what the key file of kr holds: the held keys, the
// key new values are sealed with (if held) and the retired ids.
func keyFileData(kr *keyring) []byte {
	raw := keyFileJSON{Version: keyFileVersion, Keys: []keyFileKey{}, Retired: slices.Sorted(maps.Keys(kr.retired))}
	if kr.held[kr.sealID()] != nil {
		raw.Primary = kr.sealID()
	}
	for _, id := range kr.heldIDs() {
		raw.Keys = append(raw.Keys, keyFileKey{ID: id, Secret: base64.StdEncoding.EncodeToString(kr.held[id].secret)})
	}
	data, err := json.MarshalIndent(raw, "", "  ")
	if err != nil {
		panic(err) // strings and slices of strings always marshal
	}
	return append(data, '\n')
}

// writeKeyFile replaces path with data atomically: a new file (created
// exclusively, mode 0600) in the same directory, synced, renamed over path,
// and the directory synced, so a crash leaves the old file or the new one.
func writeKeyFile(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("raftstore: KeyFile: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("raftstore: KeyFile: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		return fmt.Errorf("raftstore: KeyFile: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("raftstore: KeyFile: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("raftstore: KeyFile: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("raftstore: KeyFile: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("raftstore: KeyFile: %w", err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("raftstore: KeyFile: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("raftstore: KeyFile: sync %s: %w", dir, err)
	}
	return nil
}

// loadKeys builds a node's starting keyring from its configured keys and
// key file, and writes the file if it lacks any of them. A configured key
// whose id the file holds with another secret is an error; one the file
// lists as retired is left out.
func loadKeys(cfg Config, log *zap.Logger) (*keyring, error) {
	if cfg.KeyFile == "" {
		return newKeyring(cfg.EncryptionKeys)
	}
	kf, err := readKeyFile(cfg.KeyFile)
	if err != nil {
		return nil, err
	}
	if kf == nil {
		kf = &keyFile{}
	}
	keys := slices.Clone(kf.keys)
	fromFile := map[string][]byte{}
	for _, k := range kf.keys {
		fromFile[k.ID] = k.Secret
	}
	var errs []error
	for i, k := range cfg.EncryptionKeys {
		switch secret, ok := fromFile[k.ID]; {
		case ok && !bytes.Equal(secret, k.Secret):
			errs = append(errs, fmt.Errorf("raftstore: config: EncryptionKeys[%d] %q has another secret than key %q of KeyFile %s", i, k.ID, k.ID, cfg.KeyFile))
		case ok:
		case slices.Contains(kf.retired, k.ID):
			log.Warn("configured encryption key was retired; leaving it out", zap.String("key", k.ID), zap.String("keyFile", cfg.KeyFile))
		default:
			keys = append(keys, k)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	kr, err := newKeyring(keys)
	if err != nil {
		return nil, fmt.Errorf("raftstore: KeyFile %s: %w", cfg.KeyFile, err)
	}
	if kf.primary != "" {
		kr.localPrimary = kf.primary
	}
	for _, id := range kf.retired {
		kr.retired[id] = true
	}
	if len(kr.held) > 0 && (len(keys) != len(kf.keys) || kf.primary != kr.localPrimary) {
		if err := writeKeyFile(cfg.KeyFile, keyFileData(kr)); err != nil {
			return nil, err
		}
	}
	// The retired ids in the file only keep old keys out of the starting
	// keyring; the cluster's own list comes from the log and snapshots.
	kr.retired = map[string]bool{}
	return kr, nil
}
