package mcptools

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// kept are the schema keywords a model's structured output (Ollama's
// format) takes as they are.
var kept = []string{"type", "properties", "required", "items", "enum", "const", "description",
	"minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems"}

// dropped are keywords left out without changing what is valid: labels
// and hints.
var dropped = []string{"$schema", "title", "default", "examples", "$comment", "additionalProperties", "readOnly", "writeOnly", "deprecated"}

// loosened are constraints left out with a warning: the schema then allows
// more than the server does, and the server has the last word.
var loosened = []string{"format", "pattern", "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "uniqueItems",
	"minProperties", "maxProperties", "patternProperties", "propertyNames", "contentEncoding", "contentMediaType"}

// Simplify turns a tool's input schema into the subset a model's
// structured output takes: closed objects, and the keywords in kept. It
// returns what it loosened, to warn about, or an error saying why the tool
// cannot be offered (a composition such as anyOf, a reference).
func Simplify(input any) (json.RawMessage, []string, error) {
	raw, err := json.Marshal(input)
	if err != nil {
		return nil, nil, fmt.Errorf("its input schema is not JSON: %v", err)
	}
	var root map[string]any
	if err := json.Unmarshal(raw, &root); err != nil || root == nil {
		return nil, nil, fmt.Errorf("its input schema is not a JSON object")
	}
	if t, ok := root["type"]; ok && t != "object" {
		return nil, nil, fmt.Errorf("its input schema is of type %v, not an object of arguments", t)
	}
	root["type"] = "object"
	var warnings []string
	out, err := simplify(root, "", &warnings)
	if err != nil {
		return nil, nil, err
	}
	b, err := json.Marshal(out)
	return b, warnings, err
}

func simplify(s map[string]any, at string, warnings *[]string) (map[string]any, error) {
	out := map[string]any{}
	for _, key := range sortedKeys(s) {
		v := s[key]
		switch {
		case slices.Contains(dropped, key):
		case slices.Contains(loosened, key):
			*warnings = append(*warnings, fmt.Sprintf("%s at %s is left to the server", key, where(at)))
		case key == "type":
			t, err := oneType(v, at, warnings)
			if err != nil {
				return nil, err
			}
			out["type"] = t
		case key == "properties":
			props, ok := v.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("properties at %s is not an object", where(at))
			}
			simple := map[string]any{}
			for _, name := range sortedKeys(props) {
				p, ok := props[name].(map[string]any)
				if !ok {
					return nil, fmt.Errorf("property %s is not a schema", where(at+"."+name))
				}
				sp, err := simplify(p, at+"."+name, warnings)
				if err != nil {
					return nil, err
				}
				simple[name] = sp
			}
			out["properties"] = simple
		case key == "items":
			item, ok := v.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("items at %s is not a single schema", where(at))
			}
			si, err := simplify(item, at+"[]", warnings)
			if err != nil {
				return nil, err
			}
			out["items"] = si
		case slices.Contains(kept, key):
			out[key] = v
		default:
			return nil, fmt.Errorf("it uses %s at %s, which a model's structured output cannot follow", key, where(at))
		}
	}
	if out["type"] == "object" || out["properties"] != nil {
		out["type"] = "object"
		if out["properties"] == nil {
			out["properties"] = map[string]any{}
		}
		out["additionalProperties"] = false
	}
	if out["type"] == nil && out["enum"] == nil && out["const"] == nil {
		return nil, fmt.Errorf("%s has no type", where(at))
	}
	return out, nil
}

// oneType takes a type, or a type with null (an optional value), as one type.
func oneType(v any, at string, warnings *[]string) (string, error) {
	switch t := v.(type) {
	case string:
		return t, nil
	case []any:
		var types []string
		for _, x := range t {
			if s, ok := x.(string); ok && s != "null" {
				types = append(types, s)
			}
		}
		if len(types) == 1 {
			*warnings = append(*warnings, fmt.Sprintf("null at %s is left out", where(at)))
			return types[0], nil
		}
	}
	return "", fmt.Errorf("the type at %s is %v; a model's structured output takes one type", where(at), v)
}

func where(at string) string {
	if at == "" {
		return "the top"
	}
	return strings.TrimPrefix(at, ".")
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
