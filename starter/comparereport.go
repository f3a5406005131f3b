package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Comparison is one task done both ways, N times each.
type Comparison struct {
	Task      string    `json:"task"`
	Source    string    `json:"source"`
	Model     string    `json:"model"`
	RunsEach  int       `json:"runsEach"`
	Sandboxed bool      `json:"sandboxed"`
	Answered  string    `json:"answered"` // how decisions were answered
	At        time.Time `json:"at"`
	Sides     []Side    `json:"sides"`
}

// Side is one way's runs and their summary.
type Side struct {
	Way      string    `json:"way"`
	Runs     string    `json:"runs"`
	Measures []Measure `json:"measures"`
	Summary  Summary   `json:"summary"`
}

// Summary sums up one way's runs.
type Summary struct {
	Outcome    string  `json:"outcome"`     // the most common outcome
	Agreement  float64 `json:"agreement"`   // share of runs with that outcome
	Failed     int     `json:"failed"`      // runs that failed
	Steps      Stat    `json:"steps"`       // per run
	ModelCalls Stat    `json:"modelCalls"`  // per run
	Tokens     Stat    `json:"tokens"`      // per run
	WallSecs   Stat    `json:"wallSeconds"` // per run
	HistoryKB  Stat    `json:"historyKB"`   // per run, children included
	Decisions  int     `json:"decisions"`   // people's decisions, all runs
	Approved   int     `json:"approved"`
	Rejected   int     `json:"rejected"`
	Denied     int     `json:"denied"`
}

// Stat is the median and range of a figure over runs.
type Stat struct {
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
}

func statOf(ms []Measure, f func(Measure) float64) Stat {
	vs := make([]float64, len(ms))
	for i, m := range ms {
		vs[i] = f(m)
	}
	slices.Sort(vs)
	med := vs[len(vs)/2]
	if len(vs)%2 == 0 {
		med = (vs[len(vs)/2-1] + vs[len(vs)/2]) / 2
	}
	return Stat{Median: med, Min: vs[0], Max: vs[len(vs)-1]}
}

func (s Side) summarise() Side {
	counts := map[string]int{}
	sum := Summary{}
	for _, m := range s.Measures {
		counts[m.Outcome]++
		if m.Failed != "" {
			sum.Failed++
		}
		sum.Decisions += m.Decisions
		sum.Approved += m.Approved
		sum.Rejected += m.Rejected
		sum.Denied += m.Denied
	}
	for _, m := range s.Measures { // first-seen wins a tie, so the result is stable
		if counts[m.Outcome] > counts[sum.Outcome] {
			sum.Outcome = m.Outcome
		}
	}
	sum.Agreement = float64(counts[sum.Outcome]) / float64(len(s.Measures))
	sum.Steps = statOf(s.Measures, func(m Measure) float64 { return float64(m.Steps) })
	sum.ModelCalls = statOf(s.Measures, func(m Measure) float64 { return float64(m.ModelCalls) })
	sum.Tokens = statOf(s.Measures, func(m Measure) float64 { return float64(m.Tokens) })
	sum.WallSecs = statOf(s.Measures, func(m Measure) float64 { return m.Wall.Seconds() })
	sum.HistoryKB = statOf(s.Measures, func(m Measure) float64 { return float64(m.HistoryBytes) / 1024 })
	s.Summary = sum
	return s
}

// rows are the comparison's lines: a label and one cell per side.
func (c Comparison) rows() [][]string {
	cell := func(f func(Summary) string) []string {
		out := make([]string, len(c.Sides))
		for i, s := range c.Sides {
			out[i] = f(s.Summary)
		}
		return out
	}
	n := c.RunsEach
	rows := [][]string{
		append([]string{""}, func() []string {
			out := make([]string, len(c.Sides))
			for i, s := range c.Sides {
				out[i] = s.Way + " (" + s.Runs + ")"
			}
			return out
		}()...),
		append([]string{"outcome (most common)"}, cell(func(s Summary) string { return s.Outcome })...),
		append([]string{"consistency"}, cell(func(s Summary) string {
			return fmt.Sprintf("%d of %d agree (%.0f%%)", int(s.Agreement*float64(n)+0.5), n, 100*s.Agreement)
		})...),
		append([]string{"failed runs"}, cell(func(s Summary) string { return fmt.Sprint(s.Failed) })...),
		append([]string{"steps"}, cell(func(s Summary) string { return spread(s.Steps, "%.0f") })...),
		append([]string{"model calls"}, cell(func(s Summary) string { return spread(s.ModelCalls, "%.0f") })...),
		append([]string{"model tokens"}, cell(func(s Summary) string { return spread(s.Tokens, "%.0f") })...),
		append([]string{"wall time (s)"}, cell(func(s Summary) string { return spread(s.WallSecs, "%.1f") })...),
		append([]string{"human decisions"}, cell(func(s Summary) string { return fmt.Sprintf("%d in %d runs", s.Decisions, n) })...),
		append([]string{"policy events"}, cell(func(s Summary) string {
			return fmt.Sprintf("%d denied, %d approved, %d rejected", s.Denied, s.Approved, s.Rejected)
		})...),
		append([]string{"history (KB)"}, cell(func(s Summary) string { return spread(s.HistoryKB, "%.1f") })...),
	}
	return rows
}

// spread prints a median and, when runs differ, their range.
func spread(s Stat, format string) string {
	med := fmt.Sprintf(format, s.Median)
	if s.Min == s.Max {
		return med
	}
	return fmt.Sprintf("%s ("+format+"–"+format+")", med, s.Min, s.Max)
}

func (c Comparison) heading() string {
	mode := "sandboxed"
	if !c.Sandboxed {
		mode = "live"
	}
	return fmt.Sprintf("%s %s, %d run%s each way, model %s, %s, decisions answered %q; medians with (min–max)",
		c.Task, c.Source, c.RunsEach, plural(c.RunsEach), c.Model, mode, c.Answered)
}

// table is the comparison as aligned text.
func (c Comparison) table() string {
	var b strings.Builder
	b.WriteString(c.heading() + "\n\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 3, ' ', 0)
	for _, r := range c.rows() {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	tw.Flush()
	return b.String()
}

// markdown is the comparison as a Markdown report with its chart.
func (c Comparison) markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Workflow or agent: %s\n\n%s.\n\n", c.Task, c.heading())
	for i, r := range c.rows() {
		b.WriteString("| " + strings.Join(r, " | ") + " |\n")
		if i == 0 {
			b.WriteString("|" + strings.Repeat(" --- |", len(r)) + "\n")
		}
	}
	b.WriteString("\n![medians](compare.svg)\n\n## Runs\n\n| way | workflow id | outcome | steps | model calls | tokens | wall (s) | decisions | history (KB) |\n| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, s := range c.Sides {
		for _, m := range s.Measures {
			outcome := m.Outcome
			if m.Failed != "" {
				outcome += ": " + m.Failed
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %d | %d | %d | %.1f | %d | %.1f |\n", s.Way, m.WorkflowID, outcome, m.Steps,
				m.ModelCalls, m.Tokens, m.Wall.Seconds(), m.Decisions, float64(m.HistoryBytes)/1024)
		}
	}
	return b.String()
}

// write saves compare.md, compare.json and compare.svg in dir.
func (c Comparison) write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create the comparison folder: %w", err)
	}
	js, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	for name, body := range map[string][]byte{"compare.md": []byte(c.markdown()), "compare.json": js, "compare.svg": []byte(c.chart())} {
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
	}
	return nil
}

// chart draws the medians of both ways side by side, one panel per figure,
// as an SVG image.
func (c Comparison) chart() string {
	panels := []struct {
		title string
		value func(Summary) float64
		full  float64 // the value of a full-height bar; 0 scales to the higher bar
	}{
		{"wall time (s)", func(s Summary) float64 { return s.WallSecs.Median }, 0},
		{"model tokens", func(s Summary) float64 { return s.Tokens.Median }, 0},
		{"steps", func(s Summary) float64 { return s.Steps.Median }, 0},
		{"history (KB)", func(s Summary) float64 { return s.HistoryKB.Median }, 0},
		{"consistency (%)", func(s Summary) float64 { return 100 * s.Agreement }, 100},
	}
	colors := []string{"#2f6fdf", "#e07b26"}
	const pw, ph, barW = 170, 220, 44 // panel width and height, bar width
	width := len(panels)*pw + 20
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">`+"\n", width, 60+ph+20)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/><text x="10" y="22" font-size="15" font-weight="bold">Workflow or agent: %s (%s), medians of %d runs</text>`+"\n",
		xmlEscape(c.Task), xmlEscape(filepath.Base(c.Source)), c.RunsEach)
	for i, s := range c.Sides {
		fmt.Fprintf(&b, `<rect x="%d" y="34" width="12" height="12" fill="%s"/><text x="%d" y="45">%s</text>`+"\n", 10+i*220, colors[i%2], 28+i*220, xmlEscape(s.Way+" ("+s.Runs+")"))
	}
	for p, panel := range panels {
		x0 := 10 + p*pw
		highest := max(panel.full, 1)
		for _, s := range c.Sides {
			highest = max(highest, panel.value(s.Summary))
		}
		fmt.Fprintf(&b, `<text x="%d" y="80" font-weight="bold">%s</text>`+"\n", x0+10, xmlEscape(panel.title))
		base := 60 + ph
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#888"/>`+"\n", x0+10, base, x0+pw-20, base)
		for i, s := range c.Sides {
			v := panel.value(s.Summary)
			h := int(float64(ph-40) * v / highest)
			x := x0 + 20 + i*(barW+16)
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="%s"/>`+"\n", x, base-h, barW, h, colors[i%2])
			fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">%s</text>`+"\n", x+barW/2, base-h-4, trimFloat(v))
		}
	}
	b.WriteString("</svg>\n")
	return b.String()
}

func trimFloat(v float64) string {
	if v == float64(int(v)) {
		return fmt.Sprint(int(v))
	}
	return fmt.Sprintf("%.1f", v)
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}
