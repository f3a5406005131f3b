package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// maxInputBytes bounds one input file, well under Temporal's 2 MB payload
// limit, so that a run is refused before it starts rather than failing.
const maxInputBytes = 1 << 20

// readInput reads a named input file, or stdin for "-", and refuses missing,
// empty and oversized input with one sentence. what names the input
// ("ticket file", "invoice file").
func readInput(what, name string) ([]byte, string, error) {
	var data []byte
	var err error
	if name == "-" {
		name = "stdin"
		data, err = io.ReadAll(io.LimitReader(os.Stdin, maxInputBytes+1))
	} else {
		data, err = os.ReadFile(name)
	}
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, name, fmt.Errorf("%s %s does not exist", what, name)
	case err != nil:
		return nil, name, fmt.Errorf("cannot read %s %s: %v", what, name, err)
	case len(bytes.TrimSpace(data)) == 0:
		return nil, name, fmt.Errorf("%s %s is empty", what, name)
	case len(data) > maxInputBytes:
		return nil, name, fmt.Errorf("%s %s is over %d KB; Tandem takes inputs up to %d KB, so split it or store it as a document", what, name, maxInputBytes>>10, maxInputBytes>>10)
	}
	return data, name, nil
}

// decodeJSONInput decodes one JSON object from data into v, refusing
// unknown fields. noun names the object ("ticket") and shape its fields, for
// the error.
func decodeJSONInput(noun, name string, data []byte, v any, shape string) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%s file %s is not a JSON %s (%v); it should hold one object with %s", noun, name, noun, err, shape)
	}
	return nil
}
