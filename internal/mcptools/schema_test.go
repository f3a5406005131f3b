package mcptools

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSimplifyKeepsWhatAModelFollowsAndSaysWhatItLoosens(t *testing.T) {
	in := map[string]any{"$schema": "http://json-schema.org/draft-07/schema#", "type": "object", "required": []any{"path"},
		"properties": map[string]any{
			"path": map[string]any{"type": "string", "pattern": "^/", "default": "/"},
			"tags": map[string]any{"type": "array", "items": map[string]any{"type": "string", "format": "uri"}},
			"note": map[string]any{"type": []any{"string", "null"}},
		}}
	out, warnings, err := Simplify(in)
	require.NoError(t, err)
	assert.JSONEq(t, `{"type":"object","additionalProperties":false,"required":["path"],"properties":{
		"path":{"type":"string"},"tags":{"type":"array","items":{"type":"string"}},"note":{"type":"string"}}}`, string(out))
	assert.Equal(t, []string{"null at note is left out", "pattern at path is left to the server", "format at tags[] is left to the server"}, warnings)
}

func TestSimplifyRefusesWhatAModelCannotFollow(t *testing.T) {
	for schema, want := range map[string]string{
		`{"type":"object","properties":{"id":{"anyOf":[{"type":"string"},{"type":"number"}]}}}`:     "it uses anyOf at id, which a model's structured output cannot follow",
		`{"type":"object","properties":{"a":{"$ref":"#/$defs/a"}},"$defs":{"a":{"type":"string"}}}`: "it uses $defs at the top, which a model's structured output cannot follow",
		`{"type":"array"}`: "its input schema is of type array, not an object of arguments",
		`{"type":"object","properties":{"x":{"type":["string","number"]}}}`: "the type at x is [string number]; a model's structured output takes one type",
	} {
		var in any
		require.NoError(t, json.Unmarshal([]byte(schema), &in))
		_, _, err := Simplify(in)
		require.Error(t, err, schema)
		assert.Equal(t, want, err.Error())
	}
}
