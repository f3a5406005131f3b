package workflows

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/tandemhq/tandem/internal/policy"
)

// builtinProfiles are the profiles Tandem ships, one YAML file each.
//
//go:embed profiles/*.yaml
var builtinProfiles embed.FS

// profileFile is an agent profile as its YAML file writes it.
type profileFile struct {
	Name         string   `yaml:"name"`
	Description  string   `yaml:"description"`
	Instructions string   `yaml:"instructions"`
	Goal         string   `yaml:"goal"` // a template over the run's vars, such as "Resolve: {{.complaint}}"
	Tools        []string `yaml:"tools"`
	NeedApproval []string `yaml:"needApproval"`
	Budgets      struct {
		MaxSteps        int             `yaml:"maxSteps"`
		MaxTokens       int             `yaml:"maxTokens"`
		Deadline        policy.Duration `yaml:"deadline"`
		MaxCallsPerTool map[string]int  `yaml:"maxCallsPerTool"`
	} `yaml:"budgets"`
	Approvals struct {
		Approvers  []string        `yaml:"approvers"`
		EscalateTo []string        `yaml:"escalateTo"`
		Timeout    policy.Duration `yaml:"timeout"`
		OnTimeout  string          `yaml:"onTimeout"`
	} `yaml:"approvals"`
	Model struct {
		Mode        string `yaml:"mode"`
		ContextSize int    `yaml:"contextSize"`
		MaxInvalid  int    `yaml:"maxInvalid"`
		KeepTurns   int    `yaml:"keepTurns"`
	} `yaml:"model"`
}

const profileKind = "agent profile"

var profileName = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)

// ParseProfile reads and checks one profile file; source names it in
// errors, which give the file, line and field. MCP tools must belong to a
// server the data policy declares.
func ParseProfile(source string, data []byte, rules policy.Policy) (AgentProfile, error) {
	var f profileFile
	root, err := policy.DecodeYAML(profileKind, source, data, &f)
	if err != nil {
		return AgentProfile{}, err
	}
	fail := func(problem string, path ...string) (AgentProfile, error) {
		return AgentProfile{}, policy.Place(profileKind, source, root, problem, path...)
	}
	switch {
	case !profileName.MatchString(f.Name):
		return fail(fmt.Sprintf("%q is not a usable profile name; use lower-case letters, digits and -, like claims-triage", f.Name), "name")
	case strings.TrimSpace(f.Instructions) == "":
		return fail("the instructions are empty; tell the agent what it is for and how to work", "instructions")
	case len(f.Tools) == 0:
		return fail("the profile allows no tools; list the built-in tools and MCP tools (server.tool) it may use", "tools")
	}
	for _, list := range []struct {
		name  string
		tools []string
	}{{"tools", f.Tools}, {"needApproval", f.NeedApproval}} {
		for i, t := range list.tools {
			if problem := policy.CheckToolPattern(rules, t, ToolNames()); problem != "" {
				return fail(problem, list.name, strconv.Itoa(i))
			}
		}
	}
	for tool, n := range f.Budgets.MaxCallsPerTool {
		if !slices.ContainsFunc(f.Tools, func(p string) bool { return policy.MatchTool(p, tool) }) || n < 1 {
			return fail(fmt.Sprintf("maxCallsPerTool gives %s %d calls; name a tool of the profile and at least 1 call", tool, n), "budgets", "maxCallsPerTool", tool)
		}
	}
	if _, err := goalTemplate(f.Goal); err != nil {
		return fail(fmt.Sprintf("the goal is not a template: %v", err), "goal")
	}
	p := AgentProfile{Name: f.Name, Description: f.Description, Instructions: strings.TrimSpace(f.Instructions), Goal: f.Goal, Source: source,
		Policy: AgentPolicy{Tools: f.Tools, NeedApproval: f.NeedApproval, MaxSteps: f.Budgets.MaxSteps, MaxTokens: f.Budgets.MaxTokens,
			Deadline: time.Duration(f.Budgets.Deadline), MaxCallsPerTool: f.Budgets.MaxCallsPerTool,
			Approvers: f.Approvals.Approvers, EscalateTo: f.Approvals.EscalateTo, ApprovalTimeout: time.Duration(f.Approvals.Timeout),
			OnApprovalTimeout: f.Approvals.OnTimeout, Mode: f.Model.Mode, ContextSize: f.Model.ContextSize, MaxInvalid: f.Model.MaxInvalid,
			KeepTurns: f.Model.KeepTurns}}
	for _, n := range []struct {
		value int
		path  []string
	}{{f.Budgets.MaxSteps, []string{"budgets", "maxSteps"}}, {f.Budgets.MaxTokens, []string{"budgets", "maxTokens"}},
		{f.Model.ContextSize, []string{"model", "contextSize"}}, {f.Model.MaxInvalid, []string{"model", "maxInvalid"}}, {f.Model.KeepTurns, []string{"model", "keepTurns"}}} {
		if n.value < 0 {
			return fail(fmt.Sprintf("%d is negative; give a positive number, or leave it out for the default", n.value), n.path...)
		}
	}
	if err := p.Policy.withDefaults().validate(); err != nil {
		return fail(err.Error(), "approvals")
	}
	return p, nil
}

// LoadProfiles reads the built-in profiles, then every *.yaml file in dir
// (none when dir is empty); a file's profile replaces a built-in one of the
// same name. The first mistake stops the load, placed by file, line and
// field.
func LoadProfiles(dir string, rules policy.Policy) ([]AgentProfile, error) {
	var out []AgentProfile
	add := func(p AgentProfile) {
		if i := slices.IndexFunc(out, func(q AgentProfile) bool { return q.Name == p.Name }); i >= 0 {
			out[i] = p
			return
		}
		out = append(out, p)
	}
	builtins, _ := builtinProfiles.ReadDir("profiles")
	for _, e := range builtins {
		data, _ := builtinProfiles.ReadFile("profiles/" + e.Name())
		p, err := ParseProfile("built-in "+e.Name(), data, rules)
		if err != nil {
			return nil, err
		}
		add(p)
	}
	if dir == "" {
		return out, nil
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(files) == 0 {
		if _, statErr := os.Stat(dir); statErr != nil {
			return nil, fmt.Errorf("cannot read agent profiles from %s: %w; set TANDEM_PROFILES_DIR to a folder of profile YAML files, or unset it", dir, statErr)
		}
	}
	slices.Sort(files)
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("cannot read agent profile %s: %w", file, err)
		}
		p, err := ParseProfile(file, data, rules)
		if err != nil {
			return nil, err
		}
		add(p)
	}
	return out, nil
}

// goalTemplate parses a profile's goal template; a missing var is an error
// when it is filled in.
func goalTemplate(text string) (*template.Template, error) {
	return template.New("goal").Option("missingkey=error").Parse(text)
}

// fillGoal is the goal a run gets from its profile's template and vars.
// Filling a template over a map of strings is pure computation: the same
// template and vars give the same text on every replay.
func (p AgentProfile) fillGoal(vars map[string]string) (string, error) {
	if p.Goal == "" {
		return "", fmt.Errorf("profile %s has no goal template; give the run a goal", p.Name)
	}
	//workflowcheck:ignore
	t, err := goalTemplate(p.Goal)
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	//workflowcheck:ignore
	if err := t.Execute(&b, vars); err != nil {
		return "", fmt.Errorf("profile %s's goal %q needs vars the run does not give: %v", p.Name, p.Goal, err)
	}
	return b.String(), nil
}

// mustLoadBuiltins is the built-in profiles, under the default policy.
func mustLoadBuiltins() []AgentProfile {
	profiles, err := LoadProfiles("", policy.Policy{})
	if err != nil {
		panic(err)
	}
	return profiles
}

// LoadedProfiles are the profiles a worker loaded, served to runs by local
// activities: a run records the profile it runs under in its history, so
// that a profile file changed later does not change the run.
type LoadedProfiles struct {
	List []AgentProfile
}

// AgentProfile returns the loaded profile of that name.
func (l *LoadedProfiles) AgentProfile(_ context.Context, name string) (AgentProfile, error) {
	p, err := profileIn(l.List, name)
	if err != nil {
		return p, temporal.NewNonRetryableApplicationError(err.Error(), ErrInvalidAgent, nil)
	}
	return p, nil
}

// AgentProfiles returns every loaded profile.
func (l *LoadedProfiles) AgentProfiles(context.Context) ([]AgentProfile, error) {
	return l.List, nil
}

// AgentProfilesName is the workflow that lists the profiles the workers
// have loaded.
const AgentProfilesName = "AgentProfiles"

// ListAgentProfiles returns the profiles the worker that runs it loaded.
func ListAgentProfiles(ctx workflow.Context) ([]AgentProfile, error) {
	var loaded *LoadedProfiles
	var out []AgentProfile
	err := workflow.ExecuteLocalActivity(withLookup(ctx, "list the loaded agent profiles"), loaded.AgentProfiles).Get(ctx, &out)
	return out, err
}

// recordProfile records, as a local activity, the worker's profile of
// that name in the run's history.
func recordProfile(ctx workflow.Context, name string) (AgentProfile, error) {
	var loaded *LoadedProfiles
	var p AgentProfile
	err := workflow.ExecuteLocalActivity(withLookup(ctx, "record agent profile "+name), loaded.AgentProfile, name).Get(ctx, &p)
	return p, err
}
