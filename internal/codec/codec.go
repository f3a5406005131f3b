// Package codec encrypts every payload Tandem sends to Temporal with
// AES-256-GCM, so workflow inputs, results and errors are unreadable in the
// server's history. Each payload names the key it was encrypted with, so keys
// can rotate: new payloads use the first key, and older keys still decrypt
// the runs that used them.
package codec

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"
)

// Payload metadata of an encrypted payload.
const (
	MetadataEncoding = "binary/encrypted"
	MetadataKeyID    = "encryption-key-id"
)

// Keys are the encryption keys: the first encrypts, all decrypt.
type Keys struct {
	ids  []string
	aead map[string]cipher.AEAD
}

// ParseKeys reads keys written as "id=base64" entries separated by commas or
// new lines; each key is 32 bytes (AES-256). Lines starting with # are
// comments.
func ParseKeys(text string) (*Keys, error) {
	k := &Keys{aead: map[string]cipher.AEAD{}}
	for _, entry := range strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == '\n' }) {
		entry = strings.TrimSpace(entry)
		if entry == "" || strings.HasPrefix(entry, "#") {
			continue
		}
		id, b64, ok := strings.Cut(entry, "=")
		id = strings.TrimSpace(id)
		if !ok || id == "" {
			return nil, fmt.Errorf("a codec key entry is not id=base64-key")
		}
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
		if err != nil || len(raw) != 32 {
			return nil, fmt.Errorf("codec key %q is not 32 bytes of base64 (make one with: head -c 32 /dev/urandom | base64)", id)
		}
		if _, dup := k.aead[id]; dup {
			return nil, fmt.Errorf("codec key %q is listed twice", id)
		}
		block, err := aes.NewCipher(raw)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		k.ids = append(k.ids, id)
		k.aead[id] = aead
	}
	if len(k.ids) == 0 {
		return nil, errors.New("no codec keys given")
	}
	return k, nil
}

// LoadKeys reads keys from TANDEM_CODEC_KEYS, or from the file named by
// TANDEM_CODEC_KEY_FILE. Neither set: nil keys, no encryption.
func LoadKeys() (*Keys, error) {
	if text := os.Getenv("TANDEM_CODEC_KEYS"); strings.TrimSpace(text) != "" {
		k, err := ParseKeys(text)
		if err != nil {
			return nil, fmt.Errorf("TANDEM_CODEC_KEYS: %w", err)
		}
		return k, nil
	}
	if path := os.Getenv("TANDEM_CODEC_KEY_FILE"); path != "" {
		text, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("cannot read TANDEM_CODEC_KEY_FILE %s: %v", path, err)
		}
		k, err := ParseKeys(string(text))
		if err != nil {
			return nil, fmt.Errorf("TANDEM_CODEC_KEY_FILE %s: %w", path, err)
		}
		return k, nil
	}
	return nil, nil
}

// Current is the id of the key new payloads are encrypted with.
func (k *Keys) Current() string { return k.ids[0] }

// Encode encrypts each payload with the current key.
func (k *Keys) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	id := k.Current()
	aead := k.aead[id]
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		plain, err := proto.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("encode a payload: %w", err)
		}
		nonce := make([]byte, aead.NonceSize())
		if _, err := rand.Read(nonce); err != nil {
			return nil, err
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{converter.MetadataEncoding: []byte(MetadataEncoding), MetadataKeyID: []byte(id)},
			Data:     aead.Seal(nonce, nonce, plain, []byte(id)),
		}
	}
	return out, nil
}

// Decode decrypts encrypted payloads with the key they name, and passes
// others through unchanged.
func (k *Keys) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if string(p.GetMetadata()[converter.MetadataEncoding]) != MetadataEncoding {
			out[i] = p
			continue
		}
		id := string(p.GetMetadata()[MetadataKeyID])
		aead, ok := k.aead[id]
		if !ok {
			return nil, fmt.Errorf("a payload was encrypted with key %q, which this process does not have; add it to TANDEM_CODEC_KEYS", id)
		}
		if len(p.GetData()) < aead.NonceSize() {
			return nil, fmt.Errorf("a payload encrypted with key %q is cut short", id)
		}
		nonce, sealed := p.GetData()[:aead.NonceSize()], p.GetData()[aead.NonceSize():]
		plain, err := aead.Open(nil, nonce, sealed, []byte(id))
		if err != nil {
			return nil, fmt.Errorf("a payload did not decrypt with key %q: the key is not the one it was encrypted with, or the data was changed", id)
		}
		var decoded commonpb.Payload
		if err := proto.Unmarshal(plain, &decoded); err != nil {
			return nil, fmt.Errorf("a payload decrypted with key %q is not a payload: %w", id, err)
		}
		out[i] = &decoded
	}
	return out, nil
}

// DataConverter is Temporal's default converter with payloads encrypted by k.
func (k *Keys) DataConverter() converter.DataConverter {
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), k)
}

// FailureConverter also encrypts error messages and stack traces, which
// would otherwise stay readable in history.
func (k *Keys) FailureConverter() converter.FailureConverter {
	return temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{
		DataConverter: k.DataConverter(), EncodeCommonAttributes: true,
	})
}

// Locked is the codec of a process without keys: it passes plain payloads
// through, and refuses encrypted ones with a sentence instead of garbage.
type Locked struct{}

// Encode passes payloads through unencrypted.
func (Locked) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) { return payloads, nil }

// Decode refuses encrypted payloads.
func (Locked) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	for _, p := range payloads {
		if string(p.GetMetadata()[converter.MetadataEncoding]) == MetadataEncoding {
			return nil, fmt.Errorf("a payload is encrypted with key %q; set TANDEM_CODEC_KEYS or TANDEM_CODEC_KEY_FILE to read it",
				p.GetMetadata()[MetadataKeyID])
		}
	}
	return payloads, nil
}
