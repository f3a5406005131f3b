// Package schema builds the JSON schemas that Tandem sends to Ollama as a
// structured-answer `format`, and validates answers against them in Go.
//
// Schemas are written beside the Go type they decode into, with the builder
// functions here, so that enums come from the same Go lists the code uses and
// properties keep their declared order (the order the model writes them in).
package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Field is one property of an object schema; every property is required
// (a model answers each, with an empty value where the schema allows one).
type Field struct {
	Name   string
	Schema json.RawMessage
}

// Prop returns a required property.
func Prop(name string, s json.RawMessage) Field { return Field{Name: name, Schema: s} }

// Object is a closed object schema whose properties keep the given order.
func Object(fields ...Field) json.RawMessage {
	var b bytes.Buffer
	b.WriteString(`{"type":"object","properties":{`)
	required := []string{}
	for i, f := range fields {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(mustMarshal(f.Name))
		b.WriteByte(':')
		b.Write(f.Schema)
		required = append(required, f.Name)
	}
	b.WriteString(`},"required":`)
	b.Write(mustMarshal(required))
	b.WriteString(`,"additionalProperties":false}`)
	return b.Bytes()
}

// String is a string of at most maxLen characters (0: unbounded).
func String(description string, maxLen int) json.RawMessage {
	s := map[string]any{"type": "string", "description": description, "minLength": 1}
	if maxLen > 0 {
		s["maxLength"] = maxLen
	}
	return mustMarshal(s)
}

// OptionalString is a string of at most maxLen characters that may be empty,
// for facts a document may not state.
func OptionalString(description string, maxLen int) json.RawMessage {
	return mustMarshal(map[string]any{"type": "string", "description": description, "maxLength": maxLen})
}

// Enum is one string out of values.
func Enum(description string, values ...string) json.RawMessage {
	return mustMarshal(map[string]any{"type": "string", "description": description, "enum": values})
}

// Integer is a whole number in [minimum, maximum].
func Integer(description string, minimum, maximum int) json.RawMessage {
	return mustMarshal(map[string]any{"type": "integer", "description": description, "minimum": minimum, "maximum": maximum})
}

// Number is any number.
func Number(description string) json.RawMessage {
	return mustMarshal(map[string]any{"type": "number", "description": description})
}

// Boolean is true or false.
func Boolean(description string) json.RawMessage {
	return mustMarshal(map[string]any{"type": "boolean", "description": description})
}

// Array is a list of at most maxItems items of one schema (0: unbounded).
func Array(description string, items json.RawMessage, maxItems int) json.RawMessage {
	s := map[string]any{"type": "array", "description": description, "items": items}
	if maxItems > 0 {
		s["maxItems"] = maxItems
	}
	return mustMarshal(s)
}

func mustMarshal(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("schema: %v", err))
	}
	return b
}

var compiled sync.Map // schema text -> *jsonschema.Schema

// Validate checks that answer is one JSON value that satisfies schema. The
// error says, in one line, what is wrong; callers name what was checked.
func Validate(schemaJSON, answer []byte) error {
	sch, err := compile(schemaJSON)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(answer))
	dec.UseNumber()
	var inst any
	if err := dec.Decode(&inst); err != nil {
		return fmt.Errorf("is not JSON: %v", err)
	}
	if dec.More() {
		return fmt.Errorf("has text after its JSON value")
	}
	if err := sch.Validate(inst); err != nil {
		return fmt.Errorf("does not match the schema: %s", oneLine(err))
	}
	return nil
}

// Check reports whether schemaJSON is itself a valid JSON schema.
func Check(schemaJSON []byte) error {
	_, err := compile(schemaJSON)
	return err
}

func compile(schemaJSON []byte) (*jsonschema.Schema, error) {
	if s, ok := compiled.Load(string(schemaJSON)); ok {
		return s.(*jsonschema.Schema), nil
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schemaJSON))
	if err != nil {
		return nil, fmt.Errorf("schema is not JSON: %w", err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("answer.json", doc); err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	sch, err := c.Compile("answer.json")
	if err != nil {
		return nil, fmt.Errorf("schema does not compile: %s", oneLine(err))
	}
	compiled.Store(string(schemaJSON), sch)
	return sch, nil
}

func oneLine(err error) string {
	var ve *jsonschema.ValidationError
	msg := err.Error()
	if asValidation(err, &ve) {
		var parts []string
		for _, leaf := range leaves(ve) {
			loc := "/" + strings.Join(leaf.InstanceLocation, "/")
			parts = append(parts, fmt.Sprintf("at %s: %s", loc, leaf.ErrorKind.LocalizedString(printer)))
		}
		if len(parts) > 0 {
			msg = strings.Join(parts, "; ")
		}
	}
	return strings.Join(strings.Fields(msg), " ")
}
