package policy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/tandemhq/tandem/internal/redact"
)

// Error is a mistake in a policy file, or another file Tandem checks the
// same way, placed by line and field.
type Error struct {
	Kind    string // what the file is; "data policy" when empty
	Source  string
	Line    int
	Field   string
	Problem string
}

func (e *Error) Error() string {
	var where []string
	if e.Line > 0 {
		where = append(where, fmt.Sprintf("line %d", e.Line))
	}
	if e.Field != "" {
		where = append(where, "field "+e.Field)
	}
	loc := ""
	if len(where) > 0 {
		loc = ", " + strings.Join(where, ", ")
	}
	kind := e.Kind
	if kind == "" {
		kind = "data policy"
	}
	return fmt.Sprintf("%s %s%s: %s", kind, e.Source, loc, e.Problem)
}

// Parse reads a policy from YAML and checks it; source names it in errors.
func Parse(source string, data []byte, knownTools []string) (Policy, error) {
	var p Policy
	root, err := DecodeYAML("", source, data, &p)
	if err != nil {
		return Policy{}, err
	}
	if err := loadMCPFile(source, &p); err != nil {
		return Policy{}, err
	}
	c := checker{source: source, root: root}
	c.check(p, knownTools)
	if c.err != nil {
		return Policy{}, c.err
	}
	return p, nil
}

// DecodeYAML decodes data into v, which points to a struct, refusing
// unknown fields and values of the wrong kind with an *Error of kind (such
// as "agent profile"; "" for the data policy) that places them by line and
// field. It returns the document's nodes, for later checks to place what
// they find (see Place).
func DecodeYAML(kind, source string, data []byte, v any) (*yaml.Node, error) {
	root, err := decodeYAML(source, data, v)
	var perr *Error
	if errors.As(err, &perr) {
		perr.Kind = kind
	}
	return root, err
}

// Place returns a mistake found after decoding, placed at the field at
// path (keys and list indexes) of a document DecodeYAML read.
func Place(kind, source string, root *yaml.Node, problem string, path ...string) error {
	c := checker{source: source, root: root}
	c.fail(problem, path...)
	c.err.(*Error).Kind = kind
	return c.err
}

func decodeYAML(source string, data []byte, v any) (*yaml.Node, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, syntaxError(source, err)
	}
	if len(root.Content) == 0 {
		return nil, &Error{Source: source, Problem: "the file is empty"}
	}
	if err := checkShape(root.Content[0], reflect.TypeOf(v).Elem(), ""); err != nil {
		err.Source = source
		return nil, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		var perr *Error
		if errors.As(err, &perr) {
			perr.Source, perr.Field = source, fieldsByLine(&root)[perr.Line]
			return nil, perr
		}
		return nil, &Error{Source: source, Problem: err.Error()}
	}
	return &root, nil
}

// yamlUnmarshaler is a type that reads its own YAML, like Duration.
var yamlUnmarshaler = reflect.TypeFor[yaml.Unmarshaler]()

// checkShape walks the YAML nodes beside the Go type they decode into, and
// returns the first field the type does not have, or value of the wrong
// kind, placed at its node.
func checkShape(n *yaml.Node, t reflect.Type, path string) *Error {
	null := n.Kind == yaml.ScalarNode && n.Tag == "!!null"
	wrong := func(what string) *Error {
		if n.Kind != yaml.ScalarNode {
			return &Error{Line: n.Line, Field: path, Problem: fmt.Sprintf("this is %s, where %s belongs", kindName[n.Kind], what)}
		}
		return &Error{Line: n.Line, Field: path, Problem: fmt.Sprintf("%q is not %s", n.Value, what)}
	}
	switch {
	case null || reflect.PointerTo(t).Implements(yamlUnmarshaler):
		return nil // absent, or checked by the type itself
	case t.Kind() == reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return wrong("a section of fields")
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, value := n.Content[i], n.Content[i+1]
			field, ok := yamlField(t, key.Value)
			at := strings.TrimPrefix(path+"."+key.Value, ".")
			if !ok {
				return &Error{Line: key.Line, Field: at, Problem: fmt.Sprintf("there is no field %q here; the fields are %s",
					key.Value, strings.Join(yamlFields(t), ", "))}
			}
			if err := checkShape(value, field.Type, at); err != nil {
				return err
			}
		}
	case t.Kind() == reflect.Map:
		if n.Kind != yaml.MappingNode {
			return wrong("a section of names and values")
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if err := checkShape(n.Content[i+1], t.Elem(), strings.TrimPrefix(path+"."+n.Content[i].Value, ".")); err != nil {
				return err
			}
		}
	case t.Kind() == reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return wrong("a list")
		}
		for i, item := range n.Content {
			if err := checkShape(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case n.Kind != yaml.ScalarNode:
		return wrong("a single value")
	case t.Kind() == reflect.Int:
		if _, err := strconv.Atoi(n.Value); err != nil {
			return wrong("a whole number")
		}
	case t.Kind() == reflect.Bool:
		if _, err := strconv.ParseBool(strings.ToLower(n.Value)); err != nil {
			return wrong("true or false")
		}
	}
	return nil
}

var kindName = map[yaml.Kind]string{yaml.MappingNode: "a section", yaml.SequenceNode: "a list", yaml.AliasNode: "an alias"}

// yamlField finds the struct field a YAML key names.
func yamlField(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		if f := t.Field(i); strings.Split(f.Tag.Get("yaml"), ",")[0] == key {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// yamlFields are a struct's YAML keys, in order.
func yamlFields(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		out = append(out, strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0])
	}
	return out
}

// yamlLine finds the line in a YAML syntax error, the one error yaml.v3
// reports only as text.
var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

func syntaxError(source string, err error) error {
	m := yamlLine.FindStringSubmatch(err.Error())
	if m == nil {
		return &Error{Source: source, Problem: "not valid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	line, _ := strconv.Atoi(m[1])
	return &Error{Source: source, Line: line, Problem: "not valid YAML: " + m[2]}
}

// fieldsByLine maps each line of the file to the dotted path of the field
// on it, such as redaction.custom[0].pattern.
func fieldsByLine(root *yaml.Node) map[int]string {
	out := map[int]string{}
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, path)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				p := n.Content[i].Value
				if path != "" {
					p = path + "." + p
				}
				out[n.Content[i].Line] = p
				walk(n.Content[i+1], p)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				p := fmt.Sprintf("%s[%d]", path, i)
				if _, taken := out[c.Line]; !taken || c.Kind == yaml.ScalarNode && n.Style&yaml.FlowStyle == 0 {
					out[c.Line] = p
				}
				walk(c, p)
			}
		}
	}
	walk(root, "")
	return out
}

// lineOf finds the line of the field at path (keys and list indexes).
func lineOf(root *yaml.Node, path ...string) int {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := 0
	for _, step := range path {
		switch n.Kind {
		case yaml.MappingNode:
			found := false
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == step {
					line, n, found = n.Content[i].Line, n.Content[i+1], true
					break
				}
			}
			if !found {
				return line
			}
		case yaml.SequenceNode:
			i, err := strconv.Atoi(step)
			if err != nil || i >= len(n.Content) {
				return line
			}
			n = n.Content[i]
			line = n.Line
		default:
			return line
		}
	}
	return line
}

// UnmarshalYAML reads a duration like 90d or 36h.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseDuration(n.Value)
	if err != nil {
		return &Error{Line: n.Line, Problem: err.Error()}
	}
	*d = v
	return nil
}

// checker collects the first problem in a decoded policy.
type checker struct {
	source string
	root   *yaml.Node
	err    error
}

func (c *checker) fail(problem string, path ...string) {
	if c.err != nil {
		return
	}
	var field strings.Builder
	for _, step := range path {
		if _, err := strconv.Atoi(step); err == nil {
			field.WriteString("[" + step + "]")
			continue
		}
		if field.Len() > 0 {
			field.WriteString(".")
		}
		field.WriteString(step)
	}
	c.err = &Error{Source: c.source, Line: lineOf(c.root, path...), Field: field.String(), Problem: problem}
}

var customName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

func (c *checker) check(p Policy, knownTools []string) {
	if p.Version != 1 {
		c.fail(fmt.Sprintf("version %d is not one this Tandem reads; write version: 1", p.Version), "version")
	}
	for i, e := range p.Inference.Endpoints {
		if e == "" || strings.Contains(e, "://") || strings.ContainsAny(e, "/ ") {
			c.fail(fmt.Sprintf("%q is not a host or host:port; list servers like gpu-box.internal or 10.1.2.3:11434", e), "inference", "endpoints", strconv.Itoa(i))
		}
	}
	seen := map[string]bool{}
	for i, d := range p.Redaction.Detectors {
		if _, err := redact.Builtin(d); err != nil {
			c.fail(err.Error(), "redaction", "detectors", strconv.Itoa(i))
		}
		if seen[d] {
			c.fail(fmt.Sprintf("detector %q is listed twice", d), "redaction", "detectors", strconv.Itoa(i))
		}
		seen[d] = true
	}
	for i, cp := range p.Redaction.Custom {
		idx := strconv.Itoa(i)
		if !customName.MatchString(cp.Name) {
			c.fail(fmt.Sprintf("%q is not a usable name; use lower-case letters, digits and _, like employee_id", cp.Name), "redaction", "custom", idx, "name")
		}
		re, err := regexp.Compile(cp.Pattern)
		switch {
		case cp.Pattern == "":
			c.fail("the pattern is empty; give a regular expression such as 'EMP-[0-9]{6}'", "redaction", "custom", idx, "pattern")
		case err != nil:
			c.fail(fmt.Sprintf("%q is not a regular expression (%v)", cp.Pattern, err), "redaction", "custom", idx, "pattern")
		case re.MatchString(""):
			c.fail(fmt.Sprintf("%q matches empty text, so it would redact nothing useful; make it match at least one character", cp.Pattern), "redaction", "custom", idx, "pattern")
		}
	}
	c.checkMCP(p)
	for _, list := range []struct {
		name  string
		tools []string
	}{{"deny", p.Agent.Deny}, {"requireApproval", p.Agent.RequireApproval}} {
		for i, tool := range list.tools {
			if problem := CheckToolPattern(p, tool, knownTools); problem != "" {
				c.fail(problem, "agent", list.name, strconv.Itoa(i))
			}
		}
	}
	for i, class := range p.Models.FallbackOn {
		if !slices.Contains(FallbackClasses, class) {
			c.fail(fmt.Sprintf("%q is not a model error class; the classes are %s", class, strings.Join(FallbackClasses, ", ")), "models", "fallbackOn", strconv.Itoa(i))
		}
	}
	for i, m := range p.Models.Fallback {
		if strings.TrimSpace(m) == "" {
			c.fail("a fallback model needs a name, such as llama3.2:3b", "models", "fallback", strconv.Itoa(i))
		}
	}
	if p.Models.FallbackAfter < 0 {
		c.fail("fallbackAfter cannot be negative; 0 keeps the default of 2", "models", "fallbackAfter")
	}
	if p.Agent.Delegation.MaxDepth < 0 || p.Agent.Delegation.MaxFanOut < 0 {
		c.fail("maxDepth and maxFanOut cannot be negative; 0 keeps the defaults (2 and 4)", "agent", "delegation")
	}
	if p.Agent.MaxSteps < 0 {
		c.fail("maxSteps cannot be negative; 0 keeps each profile's own budget", "agent", "maxSteps")
	}
	if p.Agent.MaxTokens < 0 {
		c.fail("maxTokens cannot be negative; 0 keeps each profile's own budget", "agent", "maxTokens")
	}
}
