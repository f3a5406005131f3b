package activities

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode"
)

// BM25 parameters, the usual defaults.
const (
	bm25K1 = 1.2
	bm25B  = 0.75
)

type corpusDoc struct {
	name   string
	title  string
	terms  map[string]int
	length int
}

// searchDocs ranks the corpus's Markdown documents against the query with
// BM25 and lists the best ones with a snippet.
func (t *Tools) searchDocs(_ context.Context, _ ToolCall, a SearchDocsArgs) (ToolResult, error) {
	docs, err := loadCorpus(t.CorpusDir)
	if err != nil {
		return ToolResult{}, err
	}
	limit := a.Limit
	if limit < 1 || limit > 5 {
		limit = 3
	}
	type scored struct {
		doc   corpusDoc
		score float64
	}
	var avg float64
	for _, d := range docs {
		avg += float64(d.length)
	}
	avg /= math.Max(1, float64(len(docs)))
	var results []scored
	for _, d := range docs {
		var score float64
		for _, term := range tokenize(a.Query) {
			tf := float64(d.terms[term])
			if tf == 0 {
				continue
			}
			df := 0
			for _, o := range docs {
				if o.terms[term] > 0 {
					df++
				}
			}
			idf := math.Log(1 + (float64(len(docs))-float64(df)+0.5)/(float64(df)+0.5))
			score += idf * tf * (bm25K1 + 1) / (tf + bm25K1*(1-bm25B+bm25B*float64(d.length)/avg))
		}
		if score > 0 {
			results = append(results, scored{d, score})
		}
	}
	sort.SliceStable(results, func(i, j int) bool { return results[i].score > results[j].score })
	if len(results) == 0 {
		return ToolResult{Observation: fmt.Sprintf("no document matches %q", a.Query)}, nil
	}
	// A hit is a title, not a reading: the agent reads a document with read_doc.
	var lines []string
	for _, r := range results[:min(limit, len(results))] {
		lines = append(lines, fmt.Sprintf("%s (score %.2f): %s", r.doc.name, r.score, r.doc.title))
	}
	return ToolResult{Observation: strings.Join(lines, "\n")}, nil
}

func loadCorpus(dir string) ([]corpusDoc, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.md"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, nonRetryable(ErrToolInput, "the document corpus %s has no .md documents; set TANDEM_CORPUS_DIR", dir)
	}
	sort.Strings(files)
	docs := make([]corpusDoc, 0, len(files))
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", f, err)
		}
		d := corpusDoc{name: filepath.Base(f), terms: map[string]int{}}
		text := string(body)
		d.title, _, _ = strings.Cut(strings.TrimSpace(strings.TrimLeft(text, "# ")), "\n")
		for _, term := range tokenize(text) {
			d.terms[term]++
			d.length++
		}
		docs = append(docs, d)
	}
	return docs, nil
}

// tokenize lowercases text into words of two or more letters or digits,
// with a plural s dropped.
func tokenize(text string) []string {
	words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	out := words[:0]
	for _, w := range words {
		if len(w) < 2 {
			continue
		}
		if len(w) > 3 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") {
			w = w[:len(w)-1]
		}
		out = append(out, w)
	}
	return out
}
